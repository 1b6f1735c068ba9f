// First-token pooling (ops/pooling.ts is the reference): BERT's pooler reads the [CLS] / <s> row. Activations stay
// (N, W) with N = B·T: every row of sequence b gets row (b, 0), so a head after it gives each row its sequence's
// pooled result. Sequences are right-padded, so row (b, 0) is a real token.
//   x, out, dout, dx (B·T, W)
#include "kernels.h"

namespace lora {

template <typename T>
__global__ void first_token_forward_kernel(T* out, const T* x, int T_, int W, long long n) {
  const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= n) return;
  const long long row = idx / W, b = row / T_;
  out[idx] = x[b * T_ * W + idx % W];
}

// dx assigned: the first row of each sequence sums dout over the sequence's rows, the others get 0 (read by nobody).
template <typename T>
__global__ void first_token_backward_kernel(T* dx, const T* dout, int T_, int W, long long n) {
  const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= n) return;
  const long long row = idx / W, b = row / T_;
  const int c = (int)(idx % W);
  if (row % T_ != 0) {
    dx[idx] = from_f32<T>(0.f);
    return;
  }
  float acc = 0.f;
  for (int t = 0; t < T_; t++) acc += to_f32(dout[(b * T_ + t) * W + c]);
  dx[idx] = from_f32<T>(acc);
}

template <typename T>
cudaError_t first_token_forward(T* out, const T* x, int B, int T_, int W, cudaStream_t s) {
  const long long n = (long long)B * T_ * W;
  first_token_forward_kernel<T><<<ceil_div(n, 256), 256, 0, s>>>(out, x, T_, W, n);
  return launch_status();
}
template <typename T>
cudaError_t first_token_backward(T* dx, const T* dout, int B, int T_, int W, cudaStream_t s) {
  const long long n = (long long)B * T_ * W;
  first_token_backward_kernel<T><<<ceil_div(n, 256), 256, 0, s>>>(dx, dout, T_, W, n);
  return launch_status();
}

#define INSTANTIATE(T) \
  template cudaError_t first_token_forward<T>(T*, const T*, int, int, int, cudaStream_t); \
  template cudaError_t first_token_backward<T>(T*, const T*, int, int, int, cudaStream_t);
INSTANTIATE(float)
INSTANTIATE(bf16)

} // namespace lora
