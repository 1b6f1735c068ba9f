// GELU (ops/gelu.ts is the reference), both forms, forward and backward side by side:
//   tanh approximation (GPT-2, Gemma's gelu_pytorch_tanh): y = 0.5·x·(1 + tanh(k(x + 0.044715x³))), k = √(2/π);
//   exact (BERT's "gelu", erf): y = x·Φ(x) = 0.5·x·(1 + erf(x/√2)), dy/dx = Φ(x) + x·φ(x).
#include "kernels.h"

namespace lora {

#define GELU_K 0.7978845608028654f

template <typename T>
__global__ void gelu_forward_kernel(T* out, const T* x, long long n) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float v = to_f32(x[i]);
  out[i] = from_f32<T>(0.5f * v * (1.f + tanhf(GELU_K * (v + 0.044715f * v * v * v))));
}

// dx = dout · (0.5(1 + th) + 0.5·x·(1 − th²)·k(1 + 3·0.044715·x²)); dx may alias dout.
template <typename T>
__global__ void gelu_backward_kernel(T* dx, const T* dout, const T* x, long long n) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float v = to_f32(x[i]);
  const float th = tanhf(GELU_K * (v + 0.044715f * v * v * v));
  const float local = 0.5f * (1.f + th) + 0.5f * v * (1.f - th * th) * GELU_K * (1.f + 3.f * 0.044715f * v * v);
  dx[i] = from_f32<T>(to_f32(dout[i]) * local);
}

template <typename T>
__global__ void gelu_erf_forward_kernel(T* out, const T* x, long long n) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float v = to_f32(x[i]);
  out[i] = from_f32<T>(0.5f * v * (1.f + erff(v * 0.7071067811865476f)));
}

// dx = dout · (Φ(x) + x·φ(x)), φ(x) = e^(−x²/2) / √(2π); dx may alias dout.
template <typename T>
__global__ void gelu_erf_backward_kernel(T* dx, const T* dout, const T* x, long long n) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float v = to_f32(x[i]);
  const float cdf = 0.5f * (1.f + erff(v * 0.7071067811865476f));
  const float pdf = 0.3989422804014327f * __expf(-0.5f * v * v);
  dx[i] = from_f32<T>(to_f32(dout[i]) * (cdf + v * pdf));
}

template <typename T>
cudaError_t gelu_forward(T* out, const T* x, long long n, cudaStream_t s) {
  gelu_forward_kernel<T><<<ceil_div(n, 256), 256, 0, s>>>(out, x, n);
  return launch_status();
}
template <typename T>
cudaError_t gelu_backward(T* dx, const T* dout, const T* x, long long n, cudaStream_t s) {
  gelu_backward_kernel<T><<<ceil_div(n, 256), 256, 0, s>>>(dx, dout, x, n);
  return launch_status();
}

template <typename T>
cudaError_t gelu_erf_forward(T* out, const T* x, long long n, cudaStream_t s) {
  gelu_erf_forward_kernel<T><<<ceil_div(n, 256), 256, 0, s>>>(out, x, n);
  return launch_status();
}
template <typename T>
cudaError_t gelu_erf_backward(T* dx, const T* dout, const T* x, long long n, cudaStream_t s) {
  gelu_erf_backward_kernel<T><<<ceil_div(n, 256), 256, 0, s>>>(dx, dout, x, n);
  return launch_status();
}

#define INSTANTIATE(T) \
  template cudaError_t gelu_forward<T>(T*, const T*, long long, cudaStream_t); \
  template cudaError_t gelu_backward<T>(T*, const T*, const T*, long long, cudaStream_t); \
  template cudaError_t gelu_erf_forward<T>(T*, const T*, long long, cudaStream_t); \
  template cudaError_t gelu_erf_backward<T>(T*, const T*, const T*, long long, cudaStream_t);
INSTANTIATE(float)
INSTANTIATE(bf16)

} // namespace lora
