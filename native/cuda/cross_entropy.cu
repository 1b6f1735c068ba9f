// Cross-entropy fused with the LM head, in row chunks (ops/cross-entropy.ts is the reference; labels already
// shifted, −100 = not trained). The full (N, V) logits tensor never exists: the executor runs, per chunk of rows,
//   logits_chunk (rows, V) = x_chunk · Wᵀ            (GEMM into one reusable chunk buffer)
//   this kernel: nll, and logits_chunk ← dlogits = softmax − onehot (in place; 0 on ignored rows)
//   dx_chunk (rows, C) = dlogits · W                  (GEMM)
// so peak memory is rows·V instead of N·V (V = 151936 for Qwen2: 4096 tokens would be 1.2 GB in bf16).
// The loss is the SUMMED NLL (token averaging happens once per optimizer update), so dloss = 1.
#include "kernels.h"

namespace lora {

// Gemma's soft-capping z = cap·tanh(l / cap) is applied as logits are read (softcap > 0); its derivative
// 1 − tanh² multiplies the gradient, so the capped logits are never stored either.
__device__ __forceinline__ float capped(float l, float cap) { return cap > 0.f ? cap * tanhf(l / cap) : l; }

// One block per row. logits (rows, V) in T, overwritten by dlogits when `write_grad`; nll (rows) f32 (0 if ignored).
template <typename T>
__global__ void softmax_xent_kernel(T* logits, float* nll, const int* labels, int V, bool write_grad, float cap) {
  const long long row = blockIdx.x;
  T* l = logits + row * V;
  const int y = labels[row];
  float mx = -INFINITY;
  for (int c = threadIdx.x; c < V; c += blockDim.x) mx = fmaxf(mx, capped(to_f32(l[c]), cap));
  mx = block_max(mx);
  float sum = 0.f;
  for (int c = threadIdx.x; c < V; c += blockDim.x) sum += __expf(capped(to_f32(l[c]), cap) - mx);
  sum = block_sum(sum);
  const bool trained = y != -100;
  // read the label's logit before any thread overwrites the row with gradients
  const float ly = trained ? capped(to_f32(l[y]), cap) : 0.f;
  __syncthreads();
  if (threadIdx.x == 0) nll[row] = trained ? logf(sum) + mx - ly : 0.f;
  if (!write_grad) return;
  const float inv = 1.f / sum;
  for (int c = threadIdx.x; c < V; c += blockDim.x) {
    const float raw = to_f32(l[c]);
    const float z = capped(raw, cap);
    float g = trained ? __expf(z - mx) * inv - (c == y ? 1.f : 0.f) : 0.f;
    if (cap > 0.f) { const float t = z / cap; g *= 1.f - t * t; }
    l[c] = from_f32<T>(g);
  }
}

template <typename T>
cudaError_t softmax_xent(T* logits, float* nll, const int* labels, int rows, int V, bool write_grad, float softcap, cudaStream_t s) {
  softmax_xent_kernel<T><<<rows, 512, 0, s>>>(logits, nll, labels, V, write_grad, softcap);
  return launch_status();
}

#define INSTANTIATE(T) template cudaError_t softmax_xent<T>(T*, float*, const int*, int, int, bool, float, cudaStream_t);
INSTANTIATE(float)
INSTANTIATE(bf16)

} // namespace lora
