// Weight upload: float32 values from the host (safetensors bf16/f16/f32 widened by the loader) cast on the device to
// the session's activation type, chunk by chunk through one staging buffer.
#include "kernels.h"

namespace lora {

template <typename T>
__global__ void cast_from_f32_kernel(T* out, const float* in, long long n) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = from_f32<T>(in[i]);
}

template <typename T>
cudaError_t cast_from_f32(T* out, const float* in, long long n, cudaStream_t s) {
  cast_from_f32_kernel<T><<<ceil_div(n, 256), 256, 0, s>>>(out, in, n);
  return launch_status();
}

template cudaError_t cast_from_f32<float>(float*, const float*, long long, cudaStream_t);
template cudaError_t cast_from_f32<bf16>(bf16*, const float*, long long, cudaStream_t);

} // namespace lora
