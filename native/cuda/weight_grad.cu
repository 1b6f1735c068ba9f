// Gradient of a linear weight that trains in full (a modules_to_save head: a classifier, qa_outputs), accumulated
// in f32 into the flat gradients: dW (OC, IC) += doutᵀ (OC, N) · x (N, IC). Its bias uses bias_grad (residual.cu);
// its forward is the ordinary GEMM on the weight cast from the f32 master (cast.cu). Heads are narrow (OC = labels),
// so one thread per weight element summing over the rows is enough; x reads are coalesced along IC.
//   dout (N, OC), x (N, IC) act; dW (OC, IC) f32
#include "kernels.h"

namespace lora {

template <typename T>
__global__ void weight_grad_kernel(float* dW, const T* dout, const T* x, long long N, int IC, int OC) {
  const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)OC * IC) return;
  const int o = (int)(idx / IC), i = (int)(idx % IC);
  float acc = 0.f;
  for (long long n = 0; n < N; n++) acc += to_f32(dout[n * OC + o]) * to_f32(x[n * IC + i]);
  dW[idx] += acc;
}

template <typename T>
cudaError_t weight_grad(float* dW, const T* dout, const T* x, long long N, int IC, int OC, cudaStream_t s) {
  weight_grad_kernel<T><<<ceil_div((long long)OC * IC, 256), 256, 0, s>>>(dW, dout, x, N, IC, OC);
  return launch_status();
}

#define INSTANTIATE(T) template cudaError_t weight_grad<T>(float*, const T*, const T*, long long, int, int, cudaStream_t);
INSTANTIATE(float)
INSTANTIATE(bf16)

} // namespace lora
