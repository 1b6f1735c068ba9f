// SwiGLU gate of Llama-style MLPs (ops/swiglu.ts is the reference): out = silu(gate) ⊙ up.
//   dgate = dout·up·σ(a)(1 + a(1 − σ(a))),  dup = dout·silu(a).  Elementwise, one thread per element.
#include "kernels.h"

namespace lora {

template <typename T>
__global__ void swiglu_forward_kernel(T* out, const T* gate, const T* up, long long n) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float a = to_f32(gate[i]);
  out[i] = from_f32<T>(a / (1.f + __expf(-a)) * to_f32(up[i]));
}

// dgate and dup may alias gate and up (the backward reads each element before writing it).
template <typename T>
__global__ void swiglu_backward_kernel(T* dgate, T* dup, const T* dout, const T* gate, const T* up, long long n) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float a = to_f32(gate[i]), u = to_f32(up[i]), d = to_f32(dout[i]);
  const float sg = 1.f / (1.f + __expf(-a));
  dup[i] = from_f32<T>(d * a * sg);
  dgate[i] = from_f32<T>(d * u * sg * (1.f + a * (1.f - sg)));
}

template <typename T>
cudaError_t swiglu_forward(T* out, const T* gate, const T* up, long long n, cudaStream_t s) {
  swiglu_forward_kernel<T><<<ceil_div(n, 256), 256, 0, s>>>(out, gate, up, n);
  return launch_status();
}
template <typename T>
cudaError_t swiglu_backward(T* dgate, T* dup, const T* dout, const T* gate, const T* up, long long n, cudaStream_t s) {
  swiglu_backward_kernel<T><<<ceil_div(n, 256), 256, 0, s>>>(dgate, dup, dout, gate, up, n);
  return launch_status();
}

#define INSTANTIATE(T) \
  template cudaError_t swiglu_forward<T>(T*, const T*, const T*, long long, cudaStream_t); \
  template cudaError_t swiglu_backward<T>(T*, T*, const T*, const T*, const T*, long long, cudaStream_t);
INSTANTIATE(float)
INSTANTIATE(bf16)

} // namespace lora
