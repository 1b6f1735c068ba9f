// GeGLU gate of Gemma's MLP (ops/geglu.ts is the reference): out = gelu_tanh(gate) ⊙ up.
//   dup = dout·gelu(a),  dgate = dout·up·gelu'(a).  Elementwise; dgate/dup may alias gate/up.
#include "kernels.h"

namespace lora {

#define GELU_K 0.7978845608028654f

__device__ __forceinline__ void gelu_and_grad(float a, float& g, float& dg) {
  const float th = tanhf(GELU_K * (a + 0.044715f * a * a * a));
  g = 0.5f * a * (1.f + th);
  dg = 0.5f * (1.f + th) + 0.5f * a * (1.f - th * th) * GELU_K * (1.f + 3.f * 0.044715f * a * a);
}

template <typename T>
__global__ void geglu_forward_kernel(T* out, const T* gate, const T* up, long long n) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float g, dg;
  gelu_and_grad(to_f32(gate[i]), g, dg);
  out[i] = from_f32<T>(g * to_f32(up[i]));
}

template <typename T>
__global__ void geglu_backward_kernel(T* dgate, T* dup, const T* dout, const T* gate, const T* up, long long n) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float g, dg;
  gelu_and_grad(to_f32(gate[i]), g, dg);
  const float d = to_f32(dout[i]), u = to_f32(up[i]);
  dup[i] = from_f32<T>(d * g);
  dgate[i] = from_f32<T>(d * u * dg);
}

template <typename T>
cudaError_t geglu_forward(T* out, const T* gate, const T* up, long long n, cudaStream_t s) {
  geglu_forward_kernel<T><<<ceil_div(n, 256), 256, 0, s>>>(out, gate, up, n);
  return launch_status();
}
template <typename T>
cudaError_t geglu_backward(T* dgate, T* dup, const T* dout, const T* gate, const T* up, long long n, cudaStream_t s) {
  geglu_backward_kernel<T><<<ceil_div(n, 256), 256, 0, s>>>(dgate, dup, dout, gate, up, n);
  return launch_status();
}

#define INSTANTIATE(T) \
  template cudaError_t geglu_forward<T>(T*, const T*, const T*, long long, cudaStream_t); \
  template cudaError_t geglu_backward<T>(T*, T*, const T*, const T*, const T*, long long, cudaStream_t);
INSTANTIATE(float)
INSTANTIATE(bf16)

} // namespace lora
