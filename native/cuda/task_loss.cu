// Task-head losses (ops/task-loss.ts is the reference), forward and backward in one kernel each: the heads are
// narrow (1 or 2 columns), so the logits are an ordinary plan tensor and these read them whole. Like the fused
// LM-head cross-entropy the loss is a SUM (averaging over the count happens once per optimizer update), so
// dloss = 1; each sequence's loss lands on its first row of nll, every other row gets 0.
//   regression:    logits, dlogits (B·T, 1); targets (B) f32, NaN = not trained   (transformers' MSELoss)
//   extractive QA: logits, dlogits (B·T, 2) start/end; starts, ends (B), outside [0, T) = that side not trained;
//                  each trained side adds ½ · cross-entropy over the sequence's T positions
#include "kernels.h"

namespace lora {

// One thread per row: only a sequence's first row carries its (pred − target)², and its gradient 2·(pred − target).
template <typename T>
__global__ void mse_loss_kernel(float* nll, T* dlogits, const T* logits, const float* targets, int T_, long long N) {
  const long long n = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (n >= N) return;
  const float t = n % T_ == 0 ? targets[n / T_] : NAN;
  const bool trained = !isnan(t);
  const float d = trained ? to_f32(logits[n]) - t : 0.f;
  nll[n] = d * d;
  if (dlogits) dlogits[n] = from_f32<T>(2.f * d);
}

// One block per sequence; both sides in turn: softmax over the T positions of one column, then ½·(p − onehot).
template <typename T>
__global__ void span_loss_kernel(float* nll, T* dlogits, const T* logits, const int* starts, const int* ends, int T_) {
  const long long b = blockIdx.x;
  const T* l = logits + b * T_ * 2;
  float loss = 0.f;
  for (int side = 0; side < 2; side++) {
    const int gold = side == 0 ? starts[b] : ends[b];
    const bool trained = gold >= 0 && gold < T_;
    float mx = -INFINITY;
    for (int t = threadIdx.x; t < T_; t += blockDim.x) mx = fmaxf(mx, to_f32(l[t * 2 + side]));
    mx = block_max(mx);
    float sum = 0.f;
    for (int t = threadIdx.x; t < T_; t += blockDim.x) sum += __expf(to_f32(l[t * 2 + side]) - mx);
    sum = block_sum(sum);
    if (trained) loss += 0.5f * (logf(sum) + mx - to_f32(l[gold * 2 + side]));
    if (dlogits)
      for (int t = threadIdx.x; t < T_; t += blockDim.x) {
        const float g = trained ? 0.5f * (__expf(to_f32(l[t * 2 + side]) - mx) / sum - (t == gold ? 1.f : 0.f)) : 0.f;
        dlogits[(b * T_ + t) * 2 + side] = from_f32<T>(g);
      }
  }
  for (int t = threadIdx.x; t < T_; t += blockDim.x) nll[b * T_ + t] = t == 0 ? loss : 0.f;
}

template <typename T>
cudaError_t mse_loss(float* nll, T* dlogits, const T* logits, const float* targets, int B, int T_, cudaStream_t s) {
  const long long N = (long long)B * T_;
  mse_loss_kernel<T><<<ceil_div(N, 256), 256, 0, s>>>(nll, dlogits, logits, targets, T_, N);
  return launch_status();
}
template <typename T>
cudaError_t span_loss(float* nll, T* dlogits, const T* logits, const int* starts, const int* ends, int B, int T_, cudaStream_t s) {
  span_loss_kernel<T><<<B, 256, 0, s>>>(nll, dlogits, logits, starts, ends, T_);
  return launch_status();
}

#define INSTANTIATE(T) \
  template cudaError_t mse_loss<T>(float*, T*, const T*, const float*, int, int, cudaStream_t); \
  template cudaError_t span_loss<T>(float*, T*, const T*, const int*, const int*, int, int, cudaStream_t);
INSTANTIATE(float)
INSTANTIATE(bf16)

} // namespace lora
