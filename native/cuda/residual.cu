// Residual add and gradient accumulation. Forward: out = a + b. Backward of add is the identity into both inputs;
// where an activation fans out (the residual stream, q/k/v reading one normed x) the plan sums gradients with
// accumulate: dst += src. Bias add (y += b per column) and its gradient (db += Σ_rows dy) live here too.
#include "kernels.h"

namespace lora {

template <typename T>
__global__ void add_kernel(T* out, const T* a, const T* b, long long n) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = from_f32<T>(to_f32(a[i]) + to_f32(b[i]));
}

template <typename T>
__global__ void bias_add_kernel(T* y, const T* bias, long long N, int OC) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < N * OC) y[i] = from_f32<T>(to_f32(y[i]) + to_f32(bias[i % OC]));
}

// db (OC) += Σ_n dy (N, OC): one thread per column, rows strided by blockIdx.y, then one atomic per thread.
template <typename T>
__global__ void bias_grad_kernel(float* db, const T* dy, long long N, int OC) {
  const int o = blockIdx.x * blockDim.x + threadIdx.x;
  if (o >= OC) return;
  float acc = 0.f;
  for (long long n = blockIdx.y; n < N; n += gridDim.y) acc += to_f32(dy[n * OC + o]);
  atomicAdd(&db[o], acc);
}

template <typename T>
cudaError_t add_forward(T* out, const T* a, const T* b, long long n, cudaStream_t s) {
  add_kernel<T><<<ceil_div(n, 256), 256, 0, s>>>(out, a, b, n);
  return launch_status();
}
template <typename T>
cudaError_t accumulate(T* dst, const T* src, long long n, cudaStream_t s) {
  add_kernel<T><<<ceil_div(n, 256), 256, 0, s>>>(dst, dst, src, n);
  return launch_status();
}
template <typename T>
cudaError_t bias_add(T* y, const T* bias, long long N, int OC, cudaStream_t s) {
  bias_add_kernel<T><<<ceil_div(N * OC, 256), 256, 0, s>>>(y, bias, N, OC);
  return launch_status();
}
template <typename T>
cudaError_t bias_grad(float* db, const T* dy, long long N, int OC, cudaStream_t s) {
  dim3 grid(ceil_div(OC, 256), (unsigned)(N < 64 ? N : 64));
  bias_grad_kernel<T><<<grid, 256, 0, s>>>(db, dy, N, OC);
  return launch_status();
}

#define INSTANTIATE(T) \
  template cudaError_t add_forward<T>(T*, const T*, const T*, long long, cudaStream_t); \
  template cudaError_t accumulate<T>(T*, const T*, long long, cudaStream_t); \
  template cudaError_t bias_add<T>(T*, const T*, long long, int, cudaStream_t); \
  template cudaError_t bias_grad<T>(float*, const T*, long long, int, cudaStream_t);
INSTANTIATE(float)
INSTANTIATE(bf16)

} // namespace lora
