// The device side of the CUDA executor: a session holds the frozen weights (bf16, or NF4 for QLoRA), the flat f32
// trainables with their gradient accumulator and AdamW moments, and one arena of activation slots; it replays a
// plan lowered in TypeScript (src/main/engine/executors/plan/plan.ts) once per micro-step. This header is free of
// CUDA and N-API types so that addon.cc (the JS binding) compiles with or without the toolkit.
#pragma once
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace lora {

enum class StepKind {
  Embedding, RmsNorm, LayerNorm, DropoutMask, Linear, Rope, Attention, Swiglu, Gelu, Add, LmHeadLoss, CrossEntropy,
  RmsNormBwd, LayerNormBwd, LinearBwd, RopeBwd, AttentionBwd, SwigluBwd, GeluBwd, Copy, Accumulate,
  PositionEmbedding, Slice, Geglu, Softcap, GegluBwd, SoftcapBwd, SliceBwd, Zero, GeluErf, GeluErfBwd, TokenTypeEmbedding, FirstToken, FirstTokenBwd,
  MseLoss, SpanLoss, Relu, ReluBwd,
  MixAdd, MixScaleBwd, MixThetaBwd, FusionProj, FusionProjBwd, FusionScore, FusionSoftmax, FusionSoftmaxBwd, FusionMix,
  FusionMixBwd, FusionScoreBwd,
};

struct LoraDesc {
  bool present = false;
  int module = 0, A = 0, B = 0, r = 0; // A, B: offsets into the flat trainables
  float scale = 1.f, keepScale = 1.f;
  int keep = -1, h = -1, dh = -1; // tensor ids (keep = −1: no dropout)
};

// One plan step. Tensor fields hold logical tensor ids (−1 = absent); weight fields hold weight indices.
struct StepDesc {
  StepKind kind = StepKind::Copy;
  int x = -1, out = -1, a = -1, b = -1, q = -1, k = -1, v = -1, lse = -1, rstd = -1, mean = -1, gate = -1, up = -1;
  int dout = -1, dx = -1, dq = -1, dk = -1, dv = -1, dgate = -1, dup = -1, delta = -1, nll = -1, logits = -1, dlogits = -1, src = -1, dst = -1;
  int weight = -1, bias = -1;
  int trainW = -1, trainB = -1; // linear weight / bias that train in full: offsets into the flat trainables
  int width = 0, inF = 0, outF = 0, heads = 0, headDim = 0, NH = 0, NKV = 0, HD = 0, window = 0, V = 0, chunkRows = 0, module = 0;
  int start = 0, inWidth = 0;   // column slices
  int offset = 0;               // position_embedding: rows read at position + offset (RoBERTa)
  bool causal = true;           // attention: false = bidirectional (encoders)
  float eps = 0.f, scale = 1.f, keepProb = 1.f; // scale: embedding multiplier, or attention's q·k multiplier
  float cap = 0.f, softcap = 0.f; // soft-capping (a softcap step; the LM head's fused one)
  bool plusOne = false, dxAccumulate = false, local = false; // local: rope with the local tables
  LoraDesc lora;
  // combining adapters: theta / w = offsets into the flat trainables; K adapters, index = the adapter (mix) or the
  // column (fusion) a step handles, M columns; trans: W stored (out, in); accumulate: add into out
  int theta = -1, w = -1, K = 0, index = 0, M = 0;
  bool softmax = false, trans = false, accumulate = false;
};

enum class DType { Act, F32, U8 };

struct PlanDesc {
  std::vector<DType> tensorDtype;  // by tensor id
  std::vector<int> tensorWidth;    // by tensor id
  std::vector<std::string> tensorName;
  std::vector<int> slotOf;         // tensor id → slot
  std::vector<DType> slotDtype;
  std::vector<int> slotWidth;
  std::vector<StepDesc> steps;
  int nll = -1, logits = -1;
};

struct WeightDesc {
  std::string name;
  std::vector<int64_t> shape;
  bool nf4 = false; // quantize on upload (linear weights under QLoRA)
};

struct SessionOptions {
  bool bf16 = true;          // activations and base weights in bf16 (false: f32 parity mode)
  int capacityTokens = 0;    // largest B·T of any micro-batch
  int maxHeadDim = 0;        // rope tables are (N, HD)
  int64_t trainables = 0;    // flat f32 count
  std::vector<uint8_t> decay; // (trainables) 1 = weight decay applies
  std::vector<PlanDesc> plans; // train, eval, logits
  std::vector<WeightDesc> weights;
  std::vector<float> dynMap; // 256 values (quant/nf4.ts) for NF4 double quantization
  bool nf4Fused = false;     // fused dequant-matmul kernel instead of one-weight dequant + GEMM
  bool hostDropout = false;  // dropout keep masks come from the host each micro-step (parity); else a device hash
  int64_t gemmWorkspaceBytes = 32ll << 20;
};

struct BatchDesc {
  int B = 0, T = 0;
  const int32_t* ids = nullptr;      // (N)
  const int32_t* labels = nullptr;   // (N), −100 = not trained
  const uint8_t* mask = nullptr;     // (N)
  const int32_t* segments = nullptr; // (N) or null
  const int32_t* positions = nullptr; // (N) token positions (learned position tables)
  const int32_t* tokenTypes = nullptr; // (N) token types (token-type tables), null = all 0
  const float* targets = nullptr;    // (B) regression targets (mse_loss), NaN = not trained
  const int32_t* starts = nullptr;   // (B) gold span starts / ends (span_loss)
  const int32_t* ends = nullptr;
  const float* cos = nullptr;        // (N, HD) or null
  const float* sin = nullptr;
  const float* cosLocal = nullptr;   // (N, HD) tables of rope steps marked local, or null
  const float* sinLocal = nullptr;
  int headDim = 0;
  uint32_t dropoutSeed = 0;
  // exact-parity dropout: keep flags of every LoRA module in plan order, concatenated (N·IC each); null = device hash
  const uint8_t* hostKeep = nullptr;
  std::vector<int64_t> hostKeepOffsets;
};

struct AdamwDesc {
  float lr, beta1, beta2, eps, weightDecay, biasCorr1, biasCorr2, invTokens, clipMax;
};

// Raised for cudaErrorMemoryAllocation, with what was being allocated and the device's memory state.
struct OutOfMemory : std::runtime_error {
  std::string what_for;
  int64_t requested, freeBytes, totalBytes;
  OutOfMemory(const std::string& w, int64_t req, int64_t fr, int64_t tot)
      : std::runtime_error("CUDA out of memory allocating " + w), what_for(w), requested(req), freeBytes(fr), totalBytes(tot) {}
};

struct DeviceInfo {
  bool available = false;
  std::string reason, name;
  int count = 0, major = 0, minor = 0, driverVersion = 0, runtimeVersion = 0, multiprocessors = 0;
  int64_t totalMemory = 0, freeMemory = 0;
  bool cublasLt = false;
};

DeviceInfo probe_device();

class Session {
 public:
  virtual ~Session() = default;
  virtual void uploadWeight(int index, const float* data, int64_t n) = 0;
  // an NF4 weight quantized on the host (quant/nf4.ts): double-quantized (qabsmax, absmax2, offset) or plain absmax
  virtual void uploadNf4(int index, const uint8_t* codes, int64_t n, const float* absmax, const uint8_t* qabsmax, const float* absmax2, float offset) = 0;
  virtual void setTrainables(const float* data) = 0;
  virtual void getTrainables(float* out) = 0;
  virtual void setMoments(const float* m, const float* v) = 0;
  virtual void getMoments(float* m, float* v) = 0;
  virtual void getGradients(float* out) = 0;
  // runs plan `mode` (0 train, 1 eval, 2 logits) on the batch; nll (N) and, in logits mode, logits (N·V) come back
  virtual void run(int mode, const BatchDesc& b, float* nll, float* logits) = 0;
  virtual float applyUpdate(const AdamwDesc& a) = 0; // returns the gradient norm before clipping
  virtual int64_t deviceBytes() const = 0;           // everything this session allocated
  virtual int64_t peakBytes() const = 0;             // device-wide peak seen by the session (cudaMemGetInfo)
};

std::unique_ptr<Session> create_session(const SessionOptions& o);

} // namespace lora
