// Embedding rows (ops/embedding.ts is the reference): out[n] = wte[ids[n] + offset] · scale — token ids (offset 0),
// learned positions (RoBERTa reads past padding_idx: offset 2), token types. Ids are range-checked on the host
// before upload (the reference throws on an id outside [0, V)), so the kernel trusts them.
// Backward scatters into an f32 table gradient with atomics (a repeated id sums its rows); only for a trainable table.
#include "kernels.h"

namespace lora {

template <typename T>
__global__ void embedding_forward_kernel(T* out, const int* ids, const T* wte, long long N, int C, float scale, int offset) {
  const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= N * C) return;
  const long long n = idx / C;
  const int c = (int)(idx % C);
  out[idx] = from_f32<T>(to_f32(wte[((long long)ids[n] + offset) * C + c]) * scale);
}

template <typename T>
__global__ void embedding_backward_kernel(float* dwte, const T* dout, const int* ids, long long N, int C, float scale, int offset) {
  const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= N * C) return;
  const long long n = idx / C;
  atomicAdd(&dwte[((long long)ids[n] + offset) * C + idx % C], to_f32(dout[idx]) * scale);
}

template <typename T>
cudaError_t embedding_forward(T* out, const int* ids, const T* wte, long long N, int C, float scale, int offset, cudaStream_t s) {
  embedding_forward_kernel<T><<<ceil_div(N * C, 256), 256, 0, s>>>(out, ids, wte, N, C, scale, offset);
  return launch_status();
}
template <typename T>
cudaError_t embedding_backward(float* dwte, const T* dout, const int* ids, long long N, int C, float scale, int offset, cudaStream_t s) {
  embedding_backward_kernel<T><<<ceil_div(N * C, 256), 256, 0, s>>>(dwte, dout, ids, N, C, scale, offset);
  return launch_status();
}

#define INSTANTIATE(T) \
  template cudaError_t embedding_forward<T>(T*, const int*, const T*, long long, int, float, int, cudaStream_t); \
  template cudaError_t embedding_backward<T>(float*, const T*, const int*, long long, int, float, int, cudaStream_t);
INSTANTIATE(float)
INSTANTIATE(bf16)

} // namespace lora
