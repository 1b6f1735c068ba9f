// Column slices of a row-major (N, inWidth) tensor: GPT-2's fused c_attn output split into q, k, v.
// Forward copies columns [start, start + width) out; backward adds a slice's gradient back into those columns
// (the plan zeroes the full gradient first when it is fresh, so three slices assemble it).
#include "kernels.h"

namespace lora {

template <typename T>
__global__ void slice_kernel(T* dst, const T* src, long long N, int width, int inWidth, int start, bool backward) {
  const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= N * width) return;
  const long long n = idx / width;
  const int c = (int)(idx % width);
  if (!backward) dst[idx] = src[n * inWidth + start + c];
  else {
    T* d = dst + n * inWidth + start + c;
    *d = from_f32<T>(to_f32(*d) + to_f32(src[idx]));
  }
}

template <typename T>
cudaError_t slice_forward(T* out, const T* x, long long N, int width, int inWidth, int start, cudaStream_t s) {
  slice_kernel<T><<<ceil_div(N * width, 256), 256, 0, s>>>(out, x, N, width, inWidth, start, false);
  return launch_status();
}
template <typename T>
cudaError_t slice_backward(T* dx, const T* dout, long long N, int width, int inWidth, int start, cudaStream_t s) {
  slice_kernel<T><<<ceil_div(N * width, 256), 256, 0, s>>>(dx, dout, N, width, inWidth, start, true);
  return launch_status();
}

#define INSTANTIATE(T) \
  template cudaError_t slice_forward<T>(T*, const T*, long long, int, int, int, cudaStream_t); \
  template cudaError_t slice_backward<T>(T*, const T*, long long, int, int, int, cudaStream_t);
INSTANTIATE(float)
INSTANTIATE(bf16)

} // namespace lora
