// ReLU (ops/relu.ts is the reference): y = max(0, x), DistilBERT's classification head (pre_classifier → ReLU →
// classifier). Backward dx = dout · [x > 0]: the derivative at exactly 0 is 0, as torch's; dx may alias dout.
#include "kernels.h"

namespace lora {

template <typename T>
__global__ void relu_forward_kernel(T* out, const T* x, long long n) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = from_f32<T>(fmaxf(to_f32(x[i]), 0.f));
}

template <typename T>
__global__ void relu_backward_kernel(T* dx, const T* dout, const T* x, long long n) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) dx[i] = from_f32<T>(to_f32(x[i]) > 0.f ? to_f32(dout[i]) : 0.f);
}

template <typename T>
cudaError_t relu_forward(T* out, const T* x, long long n, cudaStream_t s) {
  relu_forward_kernel<T><<<ceil_div(n, 256), 256, 0, s>>>(out, x, n);
  return launch_status();
}
template <typename T>
cudaError_t relu_backward(T* dx, const T* dout, const T* x, long long n, cudaStream_t s) {
  relu_backward_kernel<T><<<ceil_div(n, 256), 256, 0, s>>>(dx, dout, x, n);
  return launch_status();
}

#define INSTANTIATE(T) \
  template cudaError_t relu_forward<T>(T*, const T*, long long, cudaStream_t); \
  template cudaError_t relu_backward<T>(T*, const T*, const T*, long long, cudaStream_t);
INSTANTIATE(float)
INSTANTIATE(bf16)

} // namespace lora
