// Host-side entry points of every kernel file (one file per op, forward and backward side by side).
// Row-major tensors; shapes are written next to each pointer in the .cu files. T = float or bf16 (lora::bf16).
#pragma once
#include "common.cuh"

namespace lora {

// normalisation
template <typename T> cudaError_t rmsnorm_forward(T* out, float* rstd, const T* x, const T* w, int R, int W, float eps, bool plus_one, cudaStream_t s);
template <typename T> cudaError_t rmsnorm_backward(T* dx, float* dw, const T* dout, const T* x, const T* w, const float* rstd, int R, int W, bool plus_one, cudaStream_t s);
template <typename T> cudaError_t layernorm_forward(T* out, float* mean, float* rstd, const T* x, const T* w, const T* b, int R, int W, float eps, cudaStream_t s);
template <typename T> cudaError_t layernorm_backward(T* dx, float* dw, float* db, const T* dout, const T* x, const T* w, const float* mean, const float* rstd, int R, int W, cudaStream_t s);

// positions, activations, embedding, residual
template <typename T> cudaError_t rope_forward(T* out, const T* x, const float* cos, const float* sin, long long N, int H, int HD, cudaStream_t s);
template <typename T> cudaError_t rope_backward(T* dx, const T* dout, const float* cos, const float* sin, long long N, int H, int HD, cudaStream_t s);
template <typename T> cudaError_t swiglu_forward(T* out, const T* gate, const T* up, long long n, cudaStream_t s);
template <typename T> cudaError_t swiglu_backward(T* dgate, T* dup, const T* dout, const T* gate, const T* up, long long n, cudaStream_t s);
template <typename T> cudaError_t gelu_forward(T* out, const T* x, long long n, cudaStream_t s);
template <typename T> cudaError_t gelu_backward(T* dx, const T* dout, const T* x, long long n, cudaStream_t s);
template <typename T> cudaError_t gelu_erf_forward(T* out, const T* x, long long n, cudaStream_t s);
template <typename T> cudaError_t gelu_erf_backward(T* dx, const T* dout, const T* x, long long n, cudaStream_t s);
template <typename T> cudaError_t relu_forward(T* out, const T* x, long long n, cudaStream_t s);
template <typename T> cudaError_t relu_backward(T* dx, const T* dout, const T* x, long long n, cudaStream_t s);
template <typename T> cudaError_t geglu_forward(T* out, const T* gate, const T* up, long long n, cudaStream_t s);
template <typename T> cudaError_t geglu_backward(T* dgate, T* dup, const T* dout, const T* gate, const T* up, long long n, cudaStream_t s);
template <typename T> cudaError_t softcap_forward(T* out, const T* x, long long n, float cap, cudaStream_t s);
template <typename T> cudaError_t softcap_backward(T* dx, const T* dout, const T* x, long long n, float cap, cudaStream_t s);
template <typename T> cudaError_t slice_forward(T* out, const T* x, long long N, int width, int inWidth, int start, cudaStream_t s);
template <typename T> cudaError_t slice_backward(T* dx, const T* dout, long long N, int width, int inWidth, int start, cudaStream_t s);
// row ids[n] + offset of the table: token ids (offset 0), positions (RoBERTa: offset padding_idx + 1), token types
template <typename T> cudaError_t embedding_forward(T* out, const int* ids, const T* wte, long long N, int C, float scale, int offset, cudaStream_t s);
template <typename T> cudaError_t embedding_backward(float* dwte, const T* dout, const int* ids, long long N, int C, float scale, int offset, cudaStream_t s);
// first-token pooling over B sequences of T rows: out[b, t] = x[b, 0]; backward dx[b, 0] = Σ_t dout[b, t], else 0
template <typename T> cudaError_t first_token_forward(T* out, const T* x, int B, int T_, int W, cudaStream_t s);
template <typename T> cudaError_t first_token_backward(T* dx, const T* dout, int B, int T_, int W, cudaStream_t s);
template <typename T> cudaError_t add_forward(T* out, const T* a, const T* b, long long n, cudaStream_t s);
template <typename T> cudaError_t accumulate(T* dst, const T* src, long long n, cudaStream_t s);
template <typename T> cudaError_t bias_add(T* y, const T* bias, long long N, int OC, cudaStream_t s);
template <typename T> cudaError_t bias_grad(float* db, const T* dy, long long N, int OC, cudaStream_t s);
// dW (OC, IC) f32 += doutᵀ · x: the weight gradient of a linear that trains in full (modules_to_save heads)
template <typename T> cudaError_t weight_grad(float* dW, const T* dout, const T* x, long long N, int IC, int OC, cudaStream_t s);

// loss: softmax + NLL (+ dlogits in place) over one chunk of LM-head rows; softcap > 0 caps the logits first
template <typename T> cudaError_t softmax_xent(T* logits, float* nll, const int* labels, int rows, int V, bool write_grad, float softcap, cudaStream_t s);

// task-head losses (ops/task-loss.ts), each sequence's loss on its first row of nll (N), dlogits (N, width) when
// not null: regression MSE on first rows (target NaN = not trained), QA span loss over positions (gold outside
// [0, T) = that side not trained)
template <typename T> cudaError_t mse_loss(float* nll, T* dlogits, const T* logits, const float* targets, int B, int T_, cudaStream_t s);
template <typename T> cudaError_t span_loss(float* nll, T* dlogits, const T* logits, const int* starts, const int* ends, int B, int T_, cudaStream_t s);

// attention (flash-style, causal or bidirectional, GQA, padding / packing / sliding-window mask)
struct AttnArgs {
  int B, T, NH, NKV, HD;
  const uint8_t* mask;  // (B, T)
  const int* segments;  // (B, T) or null
  int window;           // ≤ 0: none
  float scale;          // multiplier on q·k (1/√HD unless the model says otherwise)
  bool causal;          // false: bidirectional (encoders)
};
template <typename T> cudaError_t attention_forward(T* out, float* lse, const T* q, const T* k, const T* v, const AttnArgs& a, cudaStream_t s);
template <typename T> cudaError_t attention_backward(T* dq, T* dk, T* dv, float* delta, const T* dout, const T* out, const T* q, const T* k, const T* v, const float* lse, const AttnArgs& a, cudaStream_t s);

// NF4 weights (device buffers of one quantized tensor)
struct Nf4Weight {
  uint8_t* codes;       // (n / 2) two codes per byte, first element in the high nibble
  uint8_t* qabsmax;     // (n / 64) 8-bit double-quantized absmax
  float* absmax2;       // (n / 64 / 256) scale of each block of 256 absmax values
  float* offset;        // (1) mean of the absmax values
  const float* dyn_map; // (256) signed dynamic 8-bit map (from quant/nf4.ts)
  float* absmax;        // (n / 64) plain f32 absmax when the weight came without double quantization, else null
};
template <typename T> cudaError_t nf4_quantize(Nf4Weight w, float* absmax_scratch, const T* x, long long n, cudaStream_t s);
template <typename T> cudaError_t nf4_dequantize(T* out, Nf4Weight w, long long n, cudaStream_t s);
// input_grad = false: C (M, OC) = A (M, IC)·Wᵀ;  true: C (M, IC) = A (M, OC)·W
template <typename T> cudaError_t nf4_matmul(T* C, const T* A, Nf4Weight w, int M, int OC, int IC, bool input_grad, bool accumulate, cudaStream_t s);

// LoRA branch
cudaError_t dropout_keep_mask(uint8_t* keep, long long n, uint32_t seed, uint32_t stream, float keep_prob, cudaStream_t s);
template <typename T> cudaError_t lora_forward(T* y, float* h, const T* x, const uint8_t* keep, float keep_scale, const float* A, const float* B, float scale, long long N, int IC, int OC, int r, cudaStream_t s);
template <typename T> cudaError_t lora_backward(T* dx, float* dA, float* dB, float* dh, const T* dout, const T* x, const uint8_t* keep, float keep_scale, const float* h, const float* A, const float* B, float scale, long long N, int IC, int OC, int r, cudaStream_t s);

// combining frozen adapters (adapter_fusion.cu): learned weights θ (K ≤ 64) and AdapterFusion attention; trained
// matrices (W, θ) are f32 in the flat trainables, their gradients accumulate into the flat gradients
template <typename T> cudaError_t mix_add(T* out, const T* delta, const float* theta, int K, int k, bool softmax, long long n, cudaStream_t s);
template <typename T> cudaError_t mix_scale_backward(T* dx, const T* dout, const float* theta, int K, int k, bool softmax, long long n, cudaStream_t s);
template <typename T> cudaError_t mix_theta_backward(float* dtheta, const T* dout, const T* delta, const float* theta, int K, int k, bool softmax, long long n, cudaStream_t s);
template <typename T> cudaError_t fusion_proj(T* out, const T* x, const float* W, long long N, int IF, int OF, bool trans, bool accumulate, cudaStream_t s);
template <typename T> cudaError_t fusion_proj_backward(T* dx, float* dW, const T* dout, const T* x, const float* W, long long N, int IF, int OF, bool trans, bool dxAccumulate, cudaStream_t s);
template <typename T> cudaError_t fusion_score(float* dst, const T* a, const T* b, long long N, int width, int M, int j, cudaStream_t s);
cudaError_t fusion_softmax(float* alpha, const float* scores, long long N, int M, cudaStream_t s);
cudaError_t fusion_softmax_backward(float* ds, const float* dalpha, const float* alpha, long long N, int M, cudaStream_t s);
template <typename T> cudaError_t fusion_mix(T* out, const T* delta, const float* alpha, long long N, int W, int M, int j, cudaStream_t s);
template <typename T> cudaError_t fusion_mix_backward(T* dx, const T* dmix, const float* alpha, long long N, int W, int M, int j, cudaStream_t s);
template <typename T> cudaError_t fusion_score_backward(T* dq, T* dk, const float* ds, const T* q, const T* k, long long N, int D, int M, int j, cudaStream_t s);

// optimizer
struct AdamwArgs {
  float lr, beta1, beta2, eps, weight_decay, bias_corr1, bias_corr2, inv_tokens, clip_max;
};
cudaError_t adamw_update(float* p, float* m, float* v, float* acc, const uint8_t* decay, double* sq_norm_scratch, const AdamwArgs& a, long long n, cudaStream_t s);

// weight upload
template <typename T> cudaError_t cast_from_f32(T* out, const float* in, long long n, cudaStream_t s);

// dense products (cuBLASLt when built with it, else the tiled kernel)
struct GemmContext {
  void* lt = nullptr; // cublasLtHandle_t
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
};
bool gemm_lt_available();
cudaError_t gemm_context_create(GemmContext* ctx, size_t workspace_bytes);
void gemm_context_destroy(GemmContext* ctx);
// C (M, N) = A (M, K) · (trans_b ? Bᵀ with B (N, K) : B with B (K, N)) [+ C when accumulate]
template <typename T> cudaError_t gemm(GemmContext* ctx, T* C, const T* A, const T* B, int M, int N, int K, bool trans_b, bool accumulate, cudaStream_t s);
template <typename T> cudaError_t gemm_tiled(T* C, const T* A, const T* B, int M, int N, int K, bool trans_b, bool accumulate, cudaStream_t s);
template <typename T> cudaError_t gemm_lt(GemmContext* ctx, T* C, const T* A, const T* B, int M, int N, int K, bool trans_b, bool accumulate, cudaStream_t s);

} // namespace lora
