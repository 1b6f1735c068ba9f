// The plan interpreter on the device (see executor.h). One stream; every step is a few kernel launches; nothing
// leaves the device during a micro-step except the per-token NLL at its end (N floats).
#include "executor.h"
#include "../cuda/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <utility>

namespace lora {

namespace {

std::string cuda_message(cudaError_t e) { return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e); }

void check(cudaError_t e, const std::string& where) {
  if (e == cudaSuccess) return;
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError(); // clear the sticky-free allocation error
    size_t fr = 0, tot = 0;
    cudaMemGetInfo(&fr, &tot);
    throw OutOfMemory(where, 0, (int64_t)fr, (int64_t)tot);
  }
  throw std::runtime_error("CUDA error in " + where + ": " + cuda_message(e));
}

// Device allocation that reports what it was for when the device is full.
void* dmalloc(size_t bytes, const std::string& what, int64_t& total) {
  void* p = nullptr;
  if (bytes == 0) return nullptr;
  const cudaError_t e = cudaMalloc(&p, bytes);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t fr = 0, tot = 0;
    cudaMemGetInfo(&fr, &tot);
    throw OutOfMemory(what, (int64_t)bytes, (int64_t)fr, (int64_t)tot);
  }
  check(e, "cudaMalloc(" + what + ")");
  total += (int64_t)bytes;
  return p;
}

const char* step_name(StepKind k) {
  static const char* names[] = {"embedding", "rmsnorm", "layernorm", "dropout_mask", "linear", "rope", "attention", "swiglu", "gelu", "add",
                                "lm_head_loss", "cross_entropy", "rmsnorm_bwd", "layernorm_bwd", "linear_bwd", "rope_bwd", "attention_bwd",
                                "swiglu_bwd", "gelu_bwd", "copy", "accumulate", "position_embedding", "slice", "geglu", "softcap",
                                "geglu_bwd", "softcap_bwd", "slice_bwd", "zero", "gelu_erf", "gelu_erf_bwd", "token_type_embedding",
                                "first_token", "first_token_bwd", "mse_loss", "span_loss", "relu", "relu_bwd"};
  return names[(int)k];
}

struct DeviceWeight {
  void* dense = nullptr; // T (dense)
  Nf4Weight nf4{};       // when quantized
  bool isNf4 = false;
  int64_t n = 0, rows = 0, cols = 0;
};

} // namespace

DeviceInfo probe_device() {
  DeviceInfo info;
  info.cublasLt = gemm_lt_available();
  cudaRuntimeGetVersion(&info.runtimeVersion);
  cudaError_t e = cudaDriverGetVersion(&info.driverVersion);
  if (e == cudaSuccess) e = cudaGetDeviceCount(&info.count);
  if (e != cudaSuccess) {
    info.reason = "no usable CUDA driver or device (" + cuda_message(e) + ")";
    return info;
  }
  if (info.count == 0) {
    info.reason = "the CUDA driver sees no device";
    return info;
  }
  cudaDeviceProp p{};
  e = cudaGetDeviceProperties(&p, 0);
  if (e != cudaSuccess) {
    info.reason = "cannot read device 0: " + cuda_message(e);
    return info;
  }
  size_t fr = 0, tot = 0;
  cudaMemGetInfo(&fr, &tot);
  info.name = p.name;
  info.major = p.major;
  info.minor = p.minor;
  info.multiprocessors = p.multiProcessorCount;
  info.totalMemory = (int64_t)tot;
  info.freeMemory = (int64_t)fr;
  if (p.major < 8) {
    info.reason = std::string(p.name) + " has compute capability " + std::to_string(p.major) + "." + std::to_string(p.minor) + "; bf16 kernels need 8.0 or newer";
    return info;
  }
  info.available = true;
  return info;
}

template <typename T>
class SessionImpl : public Session {
 public:
  explicit SessionImpl(const SessionOptions& o) : o_(o) {
    try {
      allocate();
    } catch (...) {
      release(); // a constructor that throws runs no destructor: give back what was allocated so far
      throw;
    }
  }

  ~SessionImpl() override { release(); }

  void allocate() {
    const SessionOptions& o = o_;
    check(cudaStreamCreate(&stream_), "cudaStreamCreate");
    check(gemm_context_create(&gemm_, (size_t)o.gemmWorkspaceBytes), "cuBLASLt init");
    const int64_t N = o.capacityTokens;
    // one arena for the activation slots of every plan: plans never run at the same time
    size_t arena = 0;
    slotOffset_.resize(o.plans.size());
    for (size_t pi = 0; pi < o.plans.size(); pi++) {
      size_t off = 0;
      for (size_t s = 0; s < o.plans[pi].slotWidth.size(); s++) {
        slotOffset_[pi].push_back(off);
        off += align(N * o.plans[pi].slotWidth[s] * elem(o.plans[pi].slotDtype[s]));
      }
      arena = std::max(arena, off);
    }
    arena_ = (char*)dmalloc(arena, "activation slots (" + std::to_string(arena >> 20) + " MiB for " + std::to_string(N) + " tokens)", bytes_);
    // batch inputs
    ids_ = (int*)dmalloc(N * 4, "token ids", bytes_);
    labels_ = (int*)dmalloc(N * 4, "labels", bytes_);
    mask_ = (uint8_t*)dmalloc(N, "attention mask", bytes_);
    segments_ = (int*)dmalloc(N * 4, "segment ids", bytes_);
    positions_ = (int*)dmalloc(N * 4, "positions", bytes_);
    tokenTypes_ = (int*)dmalloc(N * 4, "token types", bytes_);
    // per-sequence task targets: B ≤ N sequences
    targets_ = (float*)dmalloc(N * 4, "regression targets", bytes_);
    starts_ = (int*)dmalloc(N * 4, "span starts", bytes_);
    ends_ = (int*)dmalloc(N * 4, "span ends", bytes_);
    if (o.maxHeadDim > 0) {
      cos_ = (float*)dmalloc(N * o.maxHeadDim * 4, "rope cos", bytes_);
      sin_ = (float*)dmalloc(N * o.maxHeadDim * 4, "rope sin", bytes_);
      cosLocal_ = (float*)dmalloc(N * o.maxHeadDim * 4, "local rope cos", bytes_);
      sinLocal_ = (float*)dmalloc(N * o.maxHeadDim * 4, "local rope sin", bytes_);
    }
    // trainables, gradients, moments
    const int64_t P = o.trainables;
    params_ = (float*)dmalloc(P * 4, "LoRA weights", bytes_);
    grads_ = (float*)dmalloc(P * 4, "LoRA gradients", bytes_);
    m_ = (float*)dmalloc(P * 4, "AdamW first moment", bytes_);
    v_ = (float*)dmalloc(P * 4, "AdamW second moment", bytes_);
    decay_ = (uint8_t*)dmalloc(P, "weight-decay mask", bytes_);
    sqnorm_ = (double*)dmalloc(8, "gradient norm", bytes_);
    if (P > 0) {
      check(cudaMemset(grads_, 0, P * 4), "zero gradients");
      check(cudaMemset(m_, 0, P * 4), "zero moments");
      check(cudaMemset(v_, 0, P * 4), "zero moments");
      check(cudaMemcpy(decay_, o.decay.data(), P, cudaMemcpyHostToDevice), "upload decay mask");
    }
    dyn_ = (float*)dmalloc(256 * 4, "NF4 dynamic map", bytes_);
    if (o.dynMap.size() == 256) check(cudaMemcpy(dyn_, o.dynMap.data(), 256 * 4, cudaMemcpyHostToDevice), "upload dynamic map");
    // scratch: the LM head's logits chunk, one dequantized NF4 weight, host dropout masks
    int64_t chunk = 0, dequant = 0, keep = 0, trained = 0;
    for (const auto& p : o.plans)
      for (const auto& s : p.steps) {
        if (s.kind == StepKind::LmHeadLoss) chunk = std::max<int64_t>(chunk, (int64_t)s.chunkRows * s.V);
        if ((s.kind == StepKind::Linear || s.kind == StepKind::LinearBwd) && (s.trainW >= 0 || s.trainB >= 0))
          trained = std::max<int64_t>(trained, (int64_t)s.outF * s.inF + s.outF);
        if (o.hostDropout && s.kind == StepKind::Linear && s.lora.present && s.lora.keep >= 0) keep += N * s.inF; // upper bound
      }
    for (const auto& w : o.weights) if (w.nf4 && !o.nf4Fused) dequant = std::max<int64_t>(dequant, product(w.shape));
    logitsChunk_ = (T*)dmalloc(chunk * sizeof(T), "LM-head logits chunk", bytes_);
    dequant_ = (T*)dmalloc(dequant * sizeof(T), "NF4 dequantize scratch (one weight)", bytes_);
    hostKeep_ = (uint8_t*)dmalloc(keep, "dropout masks", bytes_);
    trained_ = (T*)dmalloc(trained * sizeof(T), "trained head weight (cast from its f32 master)", bytes_);
    weights_.resize(o.weights.size());
    int64_t staging = 0;
    for (const auto& w : o.weights) staging = std::max<int64_t>(staging, product(w.shape));
    stagingElems_ = std::min<int64_t>(staging, 64ll << 20); // upload in pieces of at most 256 MiB of f32
    staging_ = (float*)dmalloc(stagingElems_ * 4, "weight upload staging", bytes_);
    absmaxScratch_ = (float*)dmalloc(((staging + 63) / 64) * 4, "NF4 absmax scratch", bytes_);
  }

  void release() {
    for (auto& w : weights_) {
      cudaFree(w.dense);
      if (w.isNf4) { cudaFree(w.nf4.codes); cudaFree(w.nf4.qabsmax); cudaFree(w.nf4.absmax2); cudaFree(w.nf4.offset); cudaFree(w.nf4.absmax); }
    }
    for (void* p : {(void*)arena_, (void*)ids_, (void*)labels_, (void*)mask_, (void*)segments_, (void*)positions_, (void*)tokenTypes_,
                    (void*)targets_, (void*)starts_, (void*)ends_, (void*)cos_, (void*)sin_, (void*)cosLocal_, (void*)sinLocal_, (void*)params_,
                    (void*)grads_, (void*)m_, (void*)v_, (void*)decay_, (void*)sqnorm_, (void*)dyn_, (void*)logitsChunk_, (void*)dequant_,
                    (void*)hostKeep_, (void*)trained_, (void*)staging_, (void*)absmaxScratch_})
      cudaFree(p);
    weights_.clear();
    gemm_context_destroy(&gemm_);
    if (stream_) cudaStreamDestroy(stream_);
    stream_ = nullptr;
  }

  void uploadWeight(int index, const float* data, int64_t n) override {
    const WeightDesc& d = o_.weights.at(index);
    if (n != product(d.shape)) throw std::runtime_error("weight " + d.name + ": got " + std::to_string(n) + " values, shape needs " + std::to_string(product(d.shape)));
    DeviceWeight& w = weights_[index];
    w.n = n;
    w.rows = d.shape.size() == 2 ? d.shape[0] : 1;
    w.cols = d.shape.empty() ? 1 : d.shape.back();
    if (d.nf4) {
      if (n > stagingElems_) throw std::runtime_error("weight " + d.name + " is larger than the upload staging buffer: NF4 quantization needs it whole");
      w.isNf4 = true;
      w.nf4.codes = (uint8_t*)dmalloc((n + 1) / 2, d.name + " (NF4 codes)", bytes_);
      const int64_t blocks = (n + 63) / 64;
      w.nf4.qabsmax = (uint8_t*)dmalloc(blocks, d.name + " (NF4 absmax)", bytes_);
      w.nf4.absmax2 = (float*)dmalloc(((blocks + 255) / 256) * 4, d.name + " (NF4 absmax2)", bytes_);
      w.nf4.offset = (float*)dmalloc(4, d.name + " (NF4 offset)", bytes_);
      w.nf4.dyn_map = dyn_;
      check(cudaMemcpyAsync(staging_, data, n * 4, cudaMemcpyHostToDevice, stream_), "upload " + d.name);
      check(nf4_quantize<float>(w.nf4, absmaxScratch_, staging_, n, stream_), "NF4 quantize " + d.name);
    } else {
      w.dense = dmalloc(n * sizeof(T), d.name, bytes_);
      for (int64_t o = 0; o < n; o += stagingElems_) {
        const int64_t len = std::min(stagingElems_, n - o);
        check(cudaMemcpyAsync(staging_, data + o, len * 4, cudaMemcpyHostToDevice, stream_), "upload " + d.name);
        check(cast_from_f32<T>((T*)w.dense + o, staging_, len, stream_), "cast " + d.name);
      }
    }
    check(cudaStreamSynchronize(stream_), "upload " + d.name); // the host buffer may be released after return
  }

  void uploadNf4(int index, const uint8_t* codes, int64_t n, const float* absmax, const uint8_t* qabsmax, const float* absmax2, float offset) override {
    const WeightDesc& d = o_.weights.at(index);
    if (n != product(d.shape)) throw std::runtime_error("NF4 weight " + d.name + ": " + std::to_string(n) + " values, shape needs " + std::to_string(product(d.shape)));
    if (!d.nf4) throw std::runtime_error("weight " + d.name + " arrived as NF4 but the session holds it dense");
    DeviceWeight& w = weights_[index];
    w.n = n;
    w.isNf4 = true;
    const int64_t blocks = (n + 63) / 64;
    w.nf4.codes = (uint8_t*)dmalloc((n + 1) / 2, d.name + " (NF4 codes)", bytes_);
    w.nf4.dyn_map = dyn_;
    check(cudaMemcpy(w.nf4.codes, codes, (n + 1) / 2, cudaMemcpyHostToDevice), "upload " + d.name);
    if (qabsmax) {
      w.nf4.qabsmax = (uint8_t*)dmalloc(blocks, d.name + " (NF4 absmax)", bytes_);
      w.nf4.absmax2 = (float*)dmalloc(((blocks + 255) / 256) * 4, d.name + " (NF4 absmax2)", bytes_);
      w.nf4.offset = (float*)dmalloc(4, d.name + " (NF4 offset)", bytes_);
      check(cudaMemcpy(w.nf4.qabsmax, qabsmax, blocks, cudaMemcpyHostToDevice), "upload " + d.name);
      check(cudaMemcpy(w.nf4.absmax2, absmax2, ((blocks + 255) / 256) * 4, cudaMemcpyHostToDevice), "upload " + d.name);
      check(cudaMemcpy(w.nf4.offset, &offset, 4, cudaMemcpyHostToDevice), "upload " + d.name);
    } else {
      w.nf4.absmax = (float*)dmalloc(blocks * 4, d.name + " (NF4 absmax)", bytes_);
      check(cudaMemcpy(w.nf4.absmax, absmax, blocks * 4, cudaMemcpyHostToDevice), "upload " + d.name);
    }
  }

  void setTrainables(const float* data) override { copyIn(params_, data, "set trainables"); }
  void getTrainables(float* out) override { copyOut(out, params_, "get trainables"); }
  void getGradients(float* out) override { copyOut(out, grads_, "get gradients"); }
  void setMoments(const float* m, const float* v) override {
    copyIn(m_, m, "set AdamW moments");
    copyIn(v_, v, "set AdamW moments");
    if (o_.trainables > 0) check(cudaMemset(grads_, 0, o_.trainables * 4), "zero gradients");
  }
  void getMoments(float* m, float* v) override {
    copyOut(m, m_, "get AdamW moments");
    copyOut(v, v_, "get AdamW moments");
  }

  void run(int mode, const BatchDesc& b, float* nll, float* logits) override {
    const PlanDesc& plan = o_.plans.at(mode);
    const int64_t N = (int64_t)b.B * b.T;
    if (N > o_.capacityTokens) throw std::runtime_error("batch of " + std::to_string(N) + " tokens exceeds the session capacity of " + std::to_string(o_.capacityTokens));
    uploadBatch(b, N);
    for (size_t i = 0; i < plan.steps.size(); i++) {
      const StepDesc& s = plan.steps[i];
      try {
        exec(mode, plan, s, b, N);
        check(cudaGetLastError(), "launch");
      } catch (const OutOfMemory&) {
        throw;
      } catch (const std::exception& e) {
        throw std::runtime_error(std::string("step ") + std::to_string(i) + " (" + step_name(s.kind) + "): " + e.what());
      }
    }
    check(cudaMemcpyAsync(nll, tensor<float>(mode, plan.nll), N * 4, cudaMemcpyDeviceToHost, stream_), "download NLL");
    if (logits && plan.logits >= 0) downloadAct(logits, mode, plan.logits, N * plan.tensorWidth[plan.logits]);
    check(cudaStreamSynchronize(stream_), "micro-step");
    updatePeak();
  }

  float applyUpdate(const AdamwDesc& a) override {
    const AdamwArgs args{a.lr, a.beta1, a.beta2, a.eps, a.weightDecay, a.biasCorr1, a.biasCorr2, a.invTokens, a.clipMax};
    check(adamw_update(params_, m_, v_, grads_, decay_, sqnorm_, args, o_.trainables, stream_), "AdamW");
    double sq = 0;
    check(cudaMemcpyAsync(&sq, sqnorm_, 8, cudaMemcpyDeviceToHost, stream_), "gradient norm");
    check(cudaStreamSynchronize(stream_), "AdamW");
    return (float)std::sqrt(sq);
  }

  int64_t deviceBytes() const override { return bytes_; }
  int64_t peakBytes() const override { return peak_; }

 private:
  static size_t align(size_t x) { return (x + 255) & ~(size_t)255; }
  static int64_t product(const std::vector<int64_t>& s) {
    int64_t p = 1;
    for (auto d : s) p *= d;
    return p;
  }
  static size_t elem(DType d) { return d == DType::Act ? sizeof(T) : d == DType::F32 ? 4 : 1; }

  template <typename U>
  U* tensor(int mode, int id) const {
    const PlanDesc& p = o_.plans[mode];
    return (U*)(arena_ + slotOffset_[mode][p.slotOf[id]]);
  }
  T* act(int mode, int id) const { return id < 0 ? nullptr : tensor<T>(mode, id); }
  float* f32(int mode, int id) const { return id < 0 ? nullptr : tensor<float>(mode, id); }
  uint8_t* u8(int mode, int id) const { return id < 0 ? nullptr : tensor<uint8_t>(mode, id); }
  const T* dense(int w) const {
    if (weights_[w].isNf4) throw std::runtime_error("weight " + o_.weights[w].name + " is NF4 where a dense weight is needed");
    return (const T*)weights_[w].dense;
  }

  void copyIn(float* dst, const float* src, const char* what) {
    if (o_.trainables > 0) check(cudaMemcpy(dst, src, o_.trainables * 4, cudaMemcpyHostToDevice), what);
  }
  void copyOut(float* dst, const float* src, const char* what) {
    if (o_.trainables > 0) check(cudaMemcpy(dst, src, o_.trainables * 4, cudaMemcpyDeviceToHost), what);
  }
  void downloadAct(float* out, int mode, int id, int64_t n) {
    if (sizeof(T) == 4) {
      check(cudaMemcpyAsync(out, act(mode, id), n * 4, cudaMemcpyDeviceToHost, stream_), "download logits");
      return;
    }
    std::vector<uint16_t> tmp(n);
    check(cudaMemcpyAsync(tmp.data(), act(mode, id), n * 2, cudaMemcpyDeviceToHost, stream_), "download logits");
    check(cudaStreamSynchronize(stream_), "download logits");
    for (int64_t i = 0; i < n; i++) {
      const uint32_t bits = (uint32_t)tmp[i] << 16;
      std::memcpy(&out[i], &bits, 4);
    }
  }

  void uploadBatch(const BatchDesc& b, int64_t N) {
    check(cudaMemcpyAsync(ids_, b.ids, N * 4, cudaMemcpyHostToDevice, stream_), "upload ids");
    check(cudaMemcpyAsync(labels_, b.labels, N * 4, cudaMemcpyHostToDevice, stream_), "upload labels");
    check(cudaMemcpyAsync(mask_, b.mask, N, cudaMemcpyHostToDevice, stream_), "upload mask");
    hasSegments_ = b.segments != nullptr;
    if (hasSegments_) check(cudaMemcpyAsync(segments_, b.segments, N * 4, cudaMemcpyHostToDevice, stream_), "upload segments");
    if (b.positions) check(cudaMemcpyAsync(positions_, b.positions, N * 4, cudaMemcpyHostToDevice, stream_), "upload positions");
    if (b.tokenTypes) check(cudaMemcpyAsync(tokenTypes_, b.tokenTypes, N * 4, cudaMemcpyHostToDevice, stream_), "upload token types");
    else check(cudaMemsetAsync(tokenTypes_, 0, N * 4, stream_), "zero token types"); // a batch without pairs: all type 0
    if (b.targets) check(cudaMemcpyAsync(targets_, b.targets, b.B * 4, cudaMemcpyHostToDevice, stream_), "upload regression targets");
    if (b.starts) check(cudaMemcpyAsync(starts_, b.starts, b.B * 4, cudaMemcpyHostToDevice, stream_), "upload span starts");
    if (b.ends) check(cudaMemcpyAsync(ends_, b.ends, b.B * 4, cudaMemcpyHostToDevice, stream_), "upload span ends");
    hasTargets_ = b.targets != nullptr;
    hasSpans_ = b.starts != nullptr && b.ends != nullptr;
    if (b.cos && cos_) {
      check(cudaMemcpyAsync(cos_, b.cos, N * b.headDim * 4, cudaMemcpyHostToDevice, stream_), "upload rope cos");
      check(cudaMemcpyAsync(sin_, b.sin, N * b.headDim * 4, cudaMemcpyHostToDevice, stream_), "upload rope sin");
    }
    if (b.cosLocal && cosLocal_) {
      check(cudaMemcpyAsync(cosLocal_, b.cosLocal, N * b.headDim * 4, cudaMemcpyHostToDevice, stream_), "upload local rope cos");
      check(cudaMemcpyAsync(sinLocal_, b.sinLocal, N * b.headDim * 4, cudaMemcpyHostToDevice, stream_), "upload local rope sin");
    }
    hostKeepOffsets_ = b.hostKeepOffsets;
    if (b.hostKeep && !b.hostKeepOffsets.empty())
      check(cudaMemcpyAsync(hostKeep_, b.hostKeep, b.hostKeepOffsets.back(), cudaMemcpyHostToDevice, stream_), "upload dropout masks");
    else hostKeepOffsets_.clear();
  }

  // y (M, OC) = x (M, IC) · Wᵀ [+ y], W dense or NF4
  void linearProduct(T* y, const T* x, int w, int64_t M, int OC, int IC, bool accumulate) {
    const DeviceWeight& dw = weights_[w];
    if (!dw.isNf4) { check(gemm<T>(&gemm_, y, x, (const T*)dw.dense, (int)M, OC, IC, true, accumulate, stream_), "GEMM"); return; }
    if (o_.nf4Fused) { check(nf4_matmul<T>(y, x, dw.nf4, (int)M, OC, IC, false, accumulate, stream_), "NF4 matmul"); return; }
    check(nf4_dequantize<T>(dequant_, dw.nf4, dw.n, stream_), "NF4 dequantize");
    check(gemm<T>(&gemm_, y, x, dequant_, (int)M, OC, IC, true, accumulate, stream_), "GEMM");
  }
  // dx (M, IC) = dout (M, OC) · W [+ dx]
  void linearInputGrad(T* dx, const T* dout, int w, int64_t M, int OC, int IC, bool accumulate) {
    const DeviceWeight& dw = weights_[w];
    if (!dw.isNf4) { check(gemm<T>(&gemm_, dx, dout, (const T*)dw.dense, (int)M, IC, OC, false, accumulate, stream_), "GEMM"); return; }
    if (o_.nf4Fused) { check(nf4_matmul<T>(dx, dout, dw.nf4, (int)M, OC, IC, true, accumulate, stream_), "NF4 matmul"); return; }
    check(nf4_dequantize<T>(dequant_, dw.nf4, dw.n, stream_), "NF4 dequantize");
    check(gemm<T>(&gemm_, dx, dout, dequant_, (int)M, IC, OC, false, accumulate, stream_), "GEMM");
  }

  // A linear's weight and bias as the GEMM reads them: a frozen device weight, or one that trains in full cast from
  // its f32 master in the flat trainables into the scratch (its bias after it); null bias = none.
  std::pair<const T*, const T*> linearWeights(const StepDesc& s) {
    const T* W = nullptr;
    const T* bias = s.bias >= 0 ? dense(s.bias) : nullptr;
    if (s.trainW >= 0) {
      check(cast_from_f32<T>(trained_, params_ + s.trainW, (int64_t)s.outF * s.inF, stream_), "cast trained weight");
      W = trained_;
    }
    if (s.trainB >= 0) {
      check(cast_from_f32<T>(trained_ + (int64_t)s.outF * s.inF, params_ + s.trainB, s.outF, stream_), "cast trained bias");
      bias = trained_ + (int64_t)s.outF * s.inF;
    }
    return {W, bias};
  }

  AttnArgs attn(const StepDesc& s, const BatchDesc& b) const {
    return AttnArgs{b.B, b.T, s.NH, s.NKV, s.HD, mask_, hasSegments_ ? segments_ : nullptr, s.window, s.scale, s.causal};
  }

  void exec(int mode, const PlanDesc& p, const StepDesc& s, const BatchDesc& b, int64_t N) {
    cudaStream_t st = stream_;
    auto rowsOf = [&](int t, int width) { return (int)(N * (p.tensorWidth[t] / width)); };
    switch (s.kind) {
      case StepKind::Embedding:
        check(embedding_forward<T>(act(mode, s.out), ids_, dense(s.weight), N, s.width, s.scale, 0, st), "embedding");
        return;
      case StepKind::RmsNorm:
        check(rmsnorm_forward<T>(act(mode, s.out), f32(mode, s.rstd), act(mode, s.x), dense(s.weight), rowsOf(s.x, s.width), s.width, s.eps, s.plusOne, st), "rmsnorm");
        return;
      case StepKind::LayerNorm:
        check(layernorm_forward<T>(act(mode, s.out), f32(mode, s.mean), f32(mode, s.rstd), act(mode, s.x), dense(s.weight), dense(s.bias), rowsOf(s.x, s.width), s.width, s.eps, st), "layernorm");
        return;
      case StepKind::DropoutMask: {
        uint8_t* keep = u8(mode, s.out);
        if (!hostKeepOffsets_.empty()) {
          if (!hostKeep_) throw std::runtime_error("host dropout masks given to a session created without hostDropout");
          const int64_t off = hostKeepOffsets_.at(s.module), len = N * s.width;
          if (hostKeepOffsets_.at(s.module + 1) - off != len) throw std::runtime_error("host dropout mask has the wrong size");
          check(cudaMemcpyAsync(keep, hostKeep_ + off, len, cudaMemcpyDeviceToDevice, st), "dropout mask copy");
        } else {
          check(dropout_keep_mask(keep, N * s.width, b.dropoutSeed, (uint32_t)s.module, s.keepProb, st), "dropout mask");
        }
        return;
      }
      case StepKind::Linear: {
        T* y = act(mode, s.out);
        const T* x = act(mode, s.x);
        const auto [trainedW, bias] = linearWeights(s);
        if (trainedW) check(gemm<T>(&gemm_, y, x, trainedW, (int)N, s.outF, s.inF, true, false, st), "GEMM");
        else linearProduct(y, x, s.weight, N, s.outF, s.inF, false);
        if (bias) check(bias_add<T>(y, bias, N, s.outF, st), "bias");
        if (s.lora.present) {
          const LoraDesc& l = s.lora;
          check(lora_forward<T>(y, f32(mode, l.h), x, u8(mode, l.keep), l.keepScale, params_ + l.A, params_ + l.B, l.scale, N, s.inF, s.outF, l.r, st), "LoRA forward");
        }
        return;
      }
      case StepKind::Rope:
        check(rope_forward<T>(act(mode, s.out), act(mode, s.x), s.local ? cosLocal_ : cos_, s.local ? sinLocal_ : sin_, N, s.heads, s.headDim, st), "rope");
        return;
      case StepKind::Attention:
        check(attention_forward<T>(act(mode, s.out), f32(mode, s.lse), act(mode, s.q), act(mode, s.k), act(mode, s.v), attn(s, b), st), "attention");
        return;
      case StepKind::Swiglu:
        check(swiglu_forward<T>(act(mode, s.out), act(mode, s.gate), act(mode, s.up), N * s.width, st), "swiglu");
        return;
      case StepKind::Gelu:
        check(gelu_forward<T>(act(mode, s.out), act(mode, s.x), N * s.width, st), "gelu");
        return;
      case StepKind::Add:
        check(add_forward<T>(act(mode, s.out), act(mode, s.a), act(mode, s.b), N * s.width, st), "add");
        return;
      case StepKind::LmHeadLoss: {
        const T* x = act(mode, s.x);
        T* dx = act(mode, s.dx);
        float* nll = f32(mode, s.nll);
        const T* W = dense(s.weight);
        for (int64_t r0 = 0; r0 < N; r0 += s.chunkRows) {
          const int rows = (int)std::min<int64_t>(s.chunkRows, N - r0);
          check(gemm<T>(&gemm_, logitsChunk_, x + r0 * s.inF, W, rows, s.V, s.inF, true, false, st), "LM head");
          if (s.bias >= 0) check(bias_add<T>(logitsChunk_, dense(s.bias), rows, s.V, st), "classifier bias");
          check(softmax_xent<T>(logitsChunk_, nll + r0, labels_ + r0, rows, s.V, dx != nullptr, s.softcap, st), "cross-entropy");
          if (dx) check(gemm<T>(&gemm_, dx + r0 * s.inF, logitsChunk_, W, rows, s.inF, s.V, false, false, st), "LM head backward");
        }
        return;
      }
      case StepKind::CrossEntropy:
        if (s.dlogits < 0) {
          check(softmax_xent<T>(act(mode, s.logits), f32(mode, s.nll), labels_, (int)N, s.V, false, 0.f, st), "cross-entropy");
          return;
        }
        // a head that trains in full: the kernel turns logits into dlogits in place, so it works on a copy
        check(cudaMemcpyAsync(act(mode, s.dlogits), act(mode, s.logits), N * s.V * sizeof(T), cudaMemcpyDeviceToDevice, st), "copy logits");
        check(softmax_xent<T>(act(mode, s.dlogits), f32(mode, s.nll), labels_, (int)N, s.V, true, 0.f, st), "cross-entropy");
        return;
      case StepKind::RmsNormBwd:
        check(rmsnorm_backward<T>(act(mode, s.dx), nullptr, act(mode, s.dout), act(mode, s.x), dense(s.weight), f32(mode, s.rstd), rowsOf(s.x, s.width), s.width, s.plusOne, st), "rmsnorm backward");
        return;
      case StepKind::LayerNormBwd:
        check(layernorm_backward<T>(act(mode, s.dx), nullptr, nullptr, act(mode, s.dout), act(mode, s.x), dense(s.weight), f32(mode, s.mean), f32(mode, s.rstd), rowsOf(s.x, s.width), s.width, st), "layernorm backward");
        return;
      case StepKind::LinearBwd: {
        T* dx = act(mode, s.dx);
        const T* dout = act(mode, s.dout);
        const T* trainedW = s.trainW >= 0 ? linearWeights(s).first : nullptr;
        if (dx && trainedW) check(gemm<T>(&gemm_, dx, dout, trainedW, (int)N, s.inF, s.outF, false, s.dxAccumulate, st), "GEMM");
        else if (dx) linearInputGrad(dx, dout, s.weight, N, s.outF, s.inF, s.dxAccumulate);
        // gradients of a weight / bias that trains in full accumulate into the flat f32 gradients
        if (s.trainW >= 0) check(weight_grad<T>(grads_ + s.trainW, dout, act(mode, s.x), N, s.inF, s.outF, st), "weight gradient");
        if (s.trainB >= 0) check(bias_grad<T>(grads_ + s.trainB, dout, N, s.outF, st), "bias gradient");
        if (s.lora.present) {
          const LoraDesc& l = s.lora;
          check(lora_backward<T>(dx, grads_ + l.A, grads_ + l.B, f32(mode, l.dh), dout, act(mode, s.x), u8(mode, l.keep), l.keepScale, f32(mode, l.h),
                                 params_ + l.A, params_ + l.B, l.scale, N, s.inF, s.outF, l.r, st), "LoRA backward");
        }
        return;
      }
      case StepKind::RopeBwd:
        check(rope_backward<T>(act(mode, s.dx), act(mode, s.dout), s.local ? cosLocal_ : cos_, s.local ? sinLocal_ : sin_, N, s.heads, s.headDim, st), "rope backward");
        return;
      case StepKind::AttentionBwd:
        check(attention_backward<T>(act(mode, s.dq), act(mode, s.dk), act(mode, s.dv), f32(mode, s.delta), act(mode, s.dout), act(mode, s.out),
                                    act(mode, s.q), act(mode, s.k), act(mode, s.v), f32(mode, s.lse), attn(s, b), st), "attention backward");
        return;
      case StepKind::SwigluBwd:
        check(swiglu_backward<T>(act(mode, s.dgate), act(mode, s.dup), act(mode, s.dout), act(mode, s.gate), act(mode, s.up), N * s.width, st), "swiglu backward");
        return;
      case StepKind::GeluErf:
        check(gelu_erf_forward<T>(act(mode, s.out), act(mode, s.x), N * s.width, st), "exact gelu");
        return;
      case StepKind::GeluErfBwd:
        check(gelu_erf_backward<T>(act(mode, s.dx), act(mode, s.dout), act(mode, s.x), N * s.width, st), "exact gelu backward");
        return;
      case StepKind::Relu:
        check(relu_forward<T>(act(mode, s.out), act(mode, s.x), N * s.width, st), "relu");
        return;
      case StepKind::ReluBwd:
        check(relu_backward<T>(act(mode, s.dx), act(mode, s.dout), act(mode, s.x), N * s.width, st), "relu backward");
        return;
      case StepKind::TokenTypeEmbedding:
        check(embedding_forward<T>(act(mode, s.out), tokenTypes_, dense(s.weight), N, s.width, 1.f, 0, st), "token-type embedding");
        return;
      case StepKind::FirstToken:
        check(first_token_forward<T>(act(mode, s.out), act(mode, s.x), b.B, b.T, s.width, st), "first-token pooling");
        return;
      case StepKind::FirstTokenBwd:
        check(first_token_backward<T>(act(mode, s.dx), act(mode, s.dout), b.B, b.T, s.width, st), "first-token pooling backward");
        return;
      case StepKind::MseLoss:
        if (!hasTargets_) throw std::runtime_error("mse_loss: the batch has no regression targets");
        check(mse_loss<T>(f32(mode, s.nll), act(mode, s.dlogits), act(mode, s.logits), targets_, b.B, b.T, st), "regression loss");
        return;
      case StepKind::SpanLoss:
        if (!hasSpans_) throw std::runtime_error("span_loss: the batch has no span starts and ends");
        check(span_loss<T>(f32(mode, s.nll), act(mode, s.dlogits), act(mode, s.logits), starts_, ends_, b.B, b.T, st), "span loss");
        return;
      case StepKind::GeluBwd:
        check(gelu_backward<T>(act(mode, s.dx), act(mode, s.dout), act(mode, s.x), N * s.width, st), "gelu backward");
        return;
      case StepKind::Copy:
        check(cudaMemcpyAsync(act(mode, s.dst), act(mode, s.src), N * s.width * sizeof(T), cudaMemcpyDeviceToDevice, st), "copy");
        return;
      case StepKind::Accumulate:
        check(accumulate<T>(act(mode, s.dst), act(mode, s.src), N * s.width, st), "accumulate");
        return;
      case StepKind::PositionEmbedding:
        check(embedding_forward<T>(act(mode, s.out), positions_, dense(s.weight), N, s.width, 1.f, s.offset, st), "position embedding");
        return;
      case StepKind::Slice:
        check(slice_forward<T>(act(mode, s.out), act(mode, s.x), N, s.width, s.inWidth, s.start, st), "slice");
        return;
      case StepKind::SliceBwd:
        check(slice_backward<T>(act(mode, s.dx), act(mode, s.dout), N, s.width, s.inWidth, s.start, st), "slice backward");
        return;
      case StepKind::Zero:
        check(cudaMemsetAsync(act(mode, s.dst), 0, N * s.width * sizeof(T), st), "zero");
        return;
      case StepKind::Geglu:
        check(geglu_forward<T>(act(mode, s.out), act(mode, s.gate), act(mode, s.up), N * s.width, st), "geglu");
        return;
      case StepKind::GegluBwd:
        check(geglu_backward<T>(act(mode, s.dgate), act(mode, s.dup), act(mode, s.dout), act(mode, s.gate), act(mode, s.up), N * s.width, st), "geglu backward");
        return;
      case StepKind::MixAdd:
        check(mix_add<T>(act(mode, s.out), act(mode, s.x), params_ + s.theta, s.K, s.index, s.softmax, N * s.width, st), "adapter mix");
        return;
      case StepKind::MixScaleBwd:
        check(mix_scale_backward<T>(act(mode, s.dx), act(mode, s.dout), params_ + s.theta, s.K, s.index, s.softmax, N * s.width, st), "adapter mix backward");
        return;
      case StepKind::MixThetaBwd:
        check(mix_theta_backward<T>(grads_ + s.theta, act(mode, s.dout), act(mode, s.x), params_ + s.theta, s.K, s.index, s.softmax, N * s.width, st), "adapter weights gradient");
        return;
      case StepKind::FusionProj:
        check(fusion_proj<T>(act(mode, s.out), act(mode, s.x), params_ + s.w, N, s.inF, s.outF, s.trans, s.accumulate, st), "fusion projection");
        return;
      case StepKind::FusionProjBwd:
        check(fusion_proj_backward<T>(s.dx >= 0 ? act(mode, s.dx) : nullptr, grads_ + s.w, act(mode, s.dout), act(mode, s.x), params_ + s.w, N, s.inF, s.outF, s.trans, s.dxAccumulate, st), "fusion projection backward");
        return;
      case StepKind::FusionScore:
        check(fusion_score<T>(f32(mode, s.dst), act(mode, s.a), act(mode, s.b), N, s.width, s.M, s.index, st), "fusion score");
        return;
      case StepKind::FusionSoftmax:
        check(fusion_softmax(f32(mode, s.out), f32(mode, s.x), N, s.width, st), "fusion softmax");
        return;
      case StepKind::FusionSoftmaxBwd:
        check(fusion_softmax_backward(f32(mode, s.dx), f32(mode, s.dout), f32(mode, s.out), N, s.width, st), "fusion softmax backward");
        return;
      case StepKind::FusionMix:
        check(fusion_mix<T>(act(mode, s.out), act(mode, s.x), f32(mode, s.a), N, s.width, s.M, s.index, st), "fusion mix");
        return;
      case StepKind::FusionMixBwd:
        check(fusion_mix_backward<T>(act(mode, s.dx), act(mode, s.dout), f32(mode, s.a), N, s.width, s.M, s.index, st), "fusion mix backward");
        return;
      case StepKind::FusionScoreBwd:
        check(fusion_score_backward<T>(act(mode, s.dq), act(mode, s.dk), f32(mode, s.dout), act(mode, s.q), act(mode, s.k), N, s.width, s.M, s.index, st), "fusion score backward");
        return;
      case StepKind::Softcap:
        check(softcap_forward<T>(act(mode, s.out), act(mode, s.x), N * s.width, s.cap, st), "softcap");
        return;
      case StepKind::SoftcapBwd:
        check(softcap_backward<T>(act(mode, s.dx), act(mode, s.dout), act(mode, s.x), N * s.width, s.cap, st), "softcap backward");
        return;
    }
  }

  void updatePeak() {
    size_t fr = 0, tot = 0;
    if (cudaMemGetInfo(&fr, &tot) == cudaSuccess) peak_ = std::max<int64_t>(peak_, (int64_t)(tot - fr));
  }

  SessionOptions o_;
  cudaStream_t stream_ = nullptr;
  GemmContext gemm_;
  std::vector<std::vector<size_t>> slotOffset_;
  std::vector<DeviceWeight> weights_;
  std::vector<int64_t> hostKeepOffsets_;
  char* arena_ = nullptr;
  int *ids_ = nullptr, *labels_ = nullptr, *segments_ = nullptr, *positions_ = nullptr, *tokenTypes_ = nullptr, *starts_ = nullptr, *ends_ = nullptr;
  float* targets_ = nullptr;
  uint8_t* mask_ = nullptr;
  bool hasSegments_ = false, hasTargets_ = false, hasSpans_ = false;
  float *cos_ = nullptr, *sin_ = nullptr, *cosLocal_ = nullptr, *sinLocal_ = nullptr;
  float *params_ = nullptr, *grads_ = nullptr, *m_ = nullptr, *v_ = nullptr, *dyn_ = nullptr, *staging_ = nullptr, *absmaxScratch_ = nullptr;
  uint8_t *decay_ = nullptr, *hostKeep_ = nullptr;
  double* sqnorm_ = nullptr;
  T *logitsChunk_ = nullptr, *dequant_ = nullptr, *trained_ = nullptr;
  int64_t stagingElems_ = 0;
  int64_t bytes_ = 0, peak_ = 0;
};

std::unique_ptr<Session> create_session(const SessionOptions& o) {
  if (o.bf16) return std::unique_ptr<Session>(new SessionImpl<bf16>(o));
  return std::unique_ptr<Session>(new SessionImpl<float>(o));
}

} // namespace lora
