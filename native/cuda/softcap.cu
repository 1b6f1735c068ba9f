// Soft-capping (Gemma's logit soft-capping; ops/softcap.ts is the reference): y = cap·tanh(x / cap),
// dx = dout·(1 − tanh²(x / cap)). At the LM head it is fused into softmax_xent instead (cross_entropy.cu).
#include "kernels.h"

namespace lora {

template <typename T>
__global__ void softcap_kernel(T* out, const T* dout, const T* x, long long n, float cap, bool backward) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float t = tanhf(to_f32(x[i]) / cap);
  out[i] = from_f32<T>(backward ? to_f32(dout[i]) * (1.f - t * t) : cap * t);
}

template <typename T>
cudaError_t softcap_forward(T* out, const T* x, long long n, float cap, cudaStream_t s) {
  softcap_kernel<T><<<ceil_div(n, 256), 256, 0, s>>>(out, nullptr, x, n, cap, false);
  return launch_status();
}
template <typename T>
cudaError_t softcap_backward(T* dx, const T* dout, const T* x, long long n, float cap, cudaStream_t s) {
  softcap_kernel<T><<<ceil_div(n, 256), 256, 0, s>>>(dx, dout, x, n, cap, true);
  return launch_status();
}

#define INSTANTIATE(T) \
  template cudaError_t softcap_forward<T>(T*, const T*, long long, float, cudaStream_t); \
  template cudaError_t softcap_backward<T>(T*, const T*, const T*, long long, float, cudaStream_t);
INSTANTIATE(float)
INSTANTIATE(bf16)

} // namespace lora
