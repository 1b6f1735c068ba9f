// The JS face of the native addon (node-addon-api). Built with CUDA (LORA_WITH_CUDA, `npm run build:native`) it
// exposes probe() and createSession(); built without, probe() says why there is no GPU path and createSession()
// refuses, so the studio stays on the CPU executor. Long calls (a micro-step, an optimizer update) run on a libuv
// worker thread and return Promises: the worker process keeps answering IPC (progress, cancel) meanwhile.
#include <napi.h>

#include <map>
#include <string>
#include <vector>

#ifdef LORA_WITH_CUDA
#include "executor.h"
#endif

namespace {

#ifdef LORA_WITH_CUDA
using namespace lora;

Napi::Error oom_error(Napi::Env env, const OutOfMemory& e) {
  Napi::Error err = Napi::Error::New(env, e.what());
  err.Set("code", "CUDA_OOM");
  err.Set("allocating", e.what_for);
  err.Set("requestedBytes", Napi::Number::New(env, (double)e.requested));
  err.Set("freeBytes", Napi::Number::New(env, (double)e.freeBytes));
  err.Set("totalBytes", Napi::Number::New(env, (double)e.totalBytes));
  return err;
}

int int_of(const Napi::Object& o, const char* key, int fallback = -1) {
  if (!o.Has(key)) return fallback;
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : fallback;
}
double num_of(const Napi::Object& o, const char* key, double fallback) {
  if (!o.Has(key)) return fallback;
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}
bool bool_of(const Napi::Object& o, const char* key) { return o.Has(key) && o.Get(key).ToBoolean().Value(); }

DType dtype_of(const std::string& s) {
  if (s == "act") return DType::Act;
  if (s == "f32") return DType::F32;
  if (s == "u8") return DType::U8;
  throw std::runtime_error("plan: unknown dtype " + s);
}

StepKind kind_of(const std::string& s) {
  static const std::map<std::string, StepKind> kinds = {
      {"embedding", StepKind::Embedding}, {"rmsnorm", StepKind::RmsNorm}, {"layernorm", StepKind::LayerNorm},
      {"dropout_mask", StepKind::DropoutMask}, {"linear", StepKind::Linear}, {"rope", StepKind::Rope},
      {"attention", StepKind::Attention}, {"swiglu", StepKind::Swiglu}, {"gelu", StepKind::Gelu}, {"add", StepKind::Add},
      {"lm_head_loss", StepKind::LmHeadLoss}, {"cross_entropy", StepKind::CrossEntropy}, {"rmsnorm_bwd", StepKind::RmsNormBwd},
      {"layernorm_bwd", StepKind::LayerNormBwd}, {"linear_bwd", StepKind::LinearBwd}, {"rope_bwd", StepKind::RopeBwd},
      {"attention_bwd", StepKind::AttentionBwd}, {"swiglu_bwd", StepKind::SwigluBwd}, {"gelu_bwd", StepKind::GeluBwd},
      {"copy", StepKind::Copy}, {"accumulate", StepKind::Accumulate}, {"position_embedding", StepKind::PositionEmbedding},
      {"slice", StepKind::Slice}, {"geglu", StepKind::Geglu}, {"softcap", StepKind::Softcap}, {"geglu_bwd", StepKind::GegluBwd},
      {"softcap_bwd", StepKind::SoftcapBwd}, {"slice_bwd", StepKind::SliceBwd}, {"zero", StepKind::Zero},
      {"gelu_erf", StepKind::GeluErf}, {"gelu_erf_bwd", StepKind::GeluErfBwd},
      {"token_type_embedding", StepKind::TokenTypeEmbedding}, {"first_token", StepKind::FirstToken},
      {"first_token_bwd", StepKind::FirstTokenBwd}, {"mse_loss", StepKind::MseLoss}, {"span_loss", StepKind::SpanLoss},
      {"relu", StepKind::Relu}, {"relu_bwd", StepKind::ReluBwd}, {"mix_add", StepKind::MixAdd},
      {"mix_scale_bwd", StepKind::MixScaleBwd}, {"mix_theta_bwd", StepKind::MixThetaBwd}, {"fusion_proj", StepKind::FusionProj},
      {"fusion_proj_bwd", StepKind::FusionProjBwd}, {"fusion_score", StepKind::FusionScore},
      {"fusion_softmax", StepKind::FusionSoftmax}, {"fusion_softmax_bwd", StepKind::FusionSoftmaxBwd},
      {"fusion_mix", StepKind::FusionMix}, {"fusion_mix_bwd", StepKind::FusionMixBwd}, {"fusion_score_bwd", StepKind::FusionScoreBwd}};
  auto it = kinds.find(s);
  if (it == kinds.end()) throw std::runtime_error("plan: unknown step kind " + s);
  return it->second;
}

PlanDesc parse_plan(const Napi::Object& p, const std::map<std::string, int>& weightIndex) {
  PlanDesc d;
  Napi::Array tensors = p.Get("tensors").As<Napi::Array>();
  for (uint32_t i = 0; i < tensors.Length(); i++) {
    Napi::Object t = tensors.Get(i).As<Napi::Object>();
    d.tensorDtype.push_back(dtype_of(t.Get("dtype").ToString()));
    d.tensorWidth.push_back(int_of(t, "width", 0));
    d.tensorName.push_back(t.Get("name").ToString());
  }
  Napi::Array slotOf = p.Get("slotOf").As<Napi::Array>();
  for (uint32_t i = 0; i < slotOf.Length(); i++) d.slotOf.push_back(slotOf.Get(i).As<Napi::Number>().Int32Value());
  Napi::Array slots = p.Get("slots").As<Napi::Array>();
  for (uint32_t i = 0; i < slots.Length(); i++) {
    Napi::Object s = slots.Get(i).As<Napi::Object>();
    d.slotDtype.push_back(dtype_of(s.Get("dtype").ToString()));
    d.slotWidth.push_back(int_of(s, "width", 0));
  }
  auto weight = [&](const Napi::Object& o, const char* key) {
    if (!o.Has(key) || o.Get(key).IsNull() || o.Get(key).IsUndefined()) return -1;
    const std::string name = o.Get(key).ToString();
    auto it = weightIndex.find(name);
    if (it == weightIndex.end()) throw std::runtime_error("plan: step uses weight " + name + ", which the session was not given");
    return it->second;
  };
  Napi::Array steps = p.Get("steps").As<Napi::Array>();
  for (uint32_t i = 0; i < steps.Length(); i++) {
    Napi::Object o = steps.Get(i).As<Napi::Object>();
    StepDesc s;
    s.kind = kind_of(o.Get("kind").ToString());
    s.x = int_of(o, "x"); s.out = int_of(o, "out"); s.a = int_of(o, "a"); s.b = int_of(o, "b");
    s.q = int_of(o, "q"); s.k = int_of(o, "k"); s.v = int_of(o, "v"); s.lse = int_of(o, "lse");
    s.rstd = int_of(o, "rstd"); s.mean = int_of(o, "mean"); s.gate = int_of(o, "gate"); s.up = int_of(o, "up");
    s.dout = int_of(o, "dout"); s.dx = int_of(o, "dx"); s.dq = int_of(o, "dq"); s.dk = int_of(o, "dk"); s.dv = int_of(o, "dv");
    s.dgate = int_of(o, "dgate"); s.dup = int_of(o, "dup"); s.delta = int_of(o, "delta"); s.nll = int_of(o, "nll");
    s.logits = int_of(o, "logits"); s.dlogits = int_of(o, "dlogits"); s.src = int_of(o, "src"); s.dst = int_of(o, "dst");
    // a weight or bias that trains in full lives in the flat trainables, not among the session's frozen weights
    s.trainW = int_of(o, "trainW"); s.trainB = int_of(o, "trainB");
    s.weight = s.trainW >= 0 ? -1 : weight(o, "weight"); s.bias = s.trainB >= 0 ? -1 : weight(o, "bias");
    s.width = int_of(o, "width", 0); s.inF = int_of(o, "inF", 0); s.outF = int_of(o, "outF", 0);
    s.heads = int_of(o, "heads", 0); s.headDim = int_of(o, "headDim", 0); s.NH = int_of(o, "NH", 0); s.NKV = int_of(o, "NKV", 0);
    s.HD = int_of(o, "HD", 0); s.window = int_of(o, "window", 0); s.V = int_of(o, "V", 0); s.chunkRows = int_of(o, "chunkRows", 0);
    s.module = int_of(o, "module", 0);
    s.eps = (float)num_of(o, "eps", 0); s.scale = (float)num_of(o, "scale", 1); s.keepProb = (float)num_of(o, "keepProb", 1);
    s.plusOne = bool_of(o, "plusOne"); s.dxAccumulate = bool_of(o, "dxAccumulate"); s.local = bool_of(o, "local");
    s.start = int_of(o, "start", 0); s.inWidth = int_of(o, "inWidth", 0); s.offset = int_of(o, "offset", 0);
    s.causal = !o.Has("causal") || o.Get("causal").ToBoolean().Value(); // absent: a decoder's causal attention
    s.cap = (float)num_of(o, "cap", 0); s.softcap = (float)num_of(o, "softcap", 0);
    s.theta = int_of(o, "theta"); s.w = int_of(o, "w"); s.K = int_of(o, "K", 0); s.index = int_of(o, "index", 0); s.M = int_of(o, "M", 0);
    s.softmax = bool_of(o, "softmax"); s.trans = bool_of(o, "trans"); s.accumulate = bool_of(o, "accumulate");
    if (o.Has("lora") && o.Get("lora").IsObject()) {
      Napi::Object l = o.Get("lora").As<Napi::Object>();
      s.lora.present = true;
      s.lora.module = int_of(l, "module", 0); s.lora.A = int_of(l, "A", 0); s.lora.B = int_of(l, "B", 0); s.lora.r = int_of(l, "r", 0);
      s.lora.scale = (float)num_of(l, "scale", 1); s.lora.keepScale = (float)num_of(l, "keepScale", 1);
      s.lora.keep = int_of(l, "keep"); s.lora.h = int_of(l, "h"); s.lora.dh = int_of(l, "dh");
    }
    d.steps.push_back(s);
  }
  d.nll = int_of(p, "nll");
  d.logits = int_of(p, "logits");
  return d;
}

template <typename E>
std::vector<E> copy_typed(const Napi::Value& v) {
  Napi::TypedArrayOf<E> a = v.As<Napi::TypedArrayOf<E>>();
  return std::vector<E>(a.Data(), a.Data() + a.ElementLength());
}

// What one run (micro-step, evaluation, logits) needs, copied so the JS arrays may be collected meanwhile.
struct RunInput {
  int mode = 0;
  BatchDesc batch;
  std::vector<int32_t> ids, labels, segments, positions, tokenTypes, starts, ends;
  std::vector<uint8_t> mask, hostKeep;
  std::vector<float> cos, sin, cosLocal, sinLocal, targets;
  int64_t V = 0;
};

class SessionWrap;

class RunWorker : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Env env, Session* s, RunInput in) : Napi::AsyncWorker(env), s_(s), in_(std::move(in)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    const int64_t N = (int64_t)in_.batch.B * in_.batch.T;
    nll_.resize(N);
    if (in_.mode == 2) logits_.resize(N * in_.V);
    try {
      s_->run(in_.mode, in_.batch, nll_.data(), in_.mode == 2 ? logits_.data() : nullptr);
    } catch (const OutOfMemory& e) {
      oom_ = true;
      oomInfo_ = e;
      SetError(e.what());
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object r = Napi::Object::New(env);
    Napi::Float32Array nll = Napi::Float32Array::New(env, nll_.size());
    std::copy(nll_.begin(), nll_.end(), nll.Data());
    r.Set("nll", nll);
    if (!logits_.empty()) {
      Napi::Float32Array lg = Napi::Float32Array::New(env, logits_.size());
      std::copy(logits_.begin(), logits_.end(), lg.Data());
      r.Set("logits", lg);
    }
    deferred_.Resolve(r);
  }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(oom_ ? oom_error(Env(), oomInfo_).Value() : e.Value());
  }

 private:
  Session* s_;
  RunInput in_;
  Napi::Promise::Deferred deferred_;
  std::vector<float> nll_, logits_;
  bool oom_ = false;
  OutOfMemory oomInfo_{"", 0, 0, 0};
};

class UpdateWorker : public Napi::AsyncWorker {
 public:
  UpdateWorker(Napi::Env env, Session* s, AdamwDesc a) : Napi::AsyncWorker(env), s_(s), a_(a), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      norm_ = s_->applyUpdate(a_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Napi::Number::New(Env(), norm_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Session* s_;
  AdamwDesc a_;
  Napi::Promise::Deferred deferred_;
  float norm_ = 0;
};

class SessionWrap : public Napi::ObjectWrap<SessionWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "CudaSession", {
        InstanceMethod("uploadWeight", &SessionWrap::UploadWeight), InstanceMethod("uploadNf4", &SessionWrap::UploadNf4),
        InstanceMethod("setTrainables", &SessionWrap::SetTrainables),
        InstanceMethod("getTrainables", &SessionWrap::GetTrainables), InstanceMethod("getGradients", &SessionWrap::GetGradients),
        InstanceMethod("setMoments", &SessionWrap::SetMoments), InstanceMethod("getMoments", &SessionWrap::GetMoments),
        InstanceMethod("run", &SessionWrap::Run), InstanceMethod("applyUpdate", &SessionWrap::ApplyUpdate),
        InstanceMethod("deviceBytes", &SessionWrap::DeviceBytes), InstanceMethod("peakBytes", &SessionWrap::PeakBytes),
        InstanceMethod("dispose", &SessionWrap::Dispose)});
  }

  SessionWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SessionWrap>(info) {
    Napi::Env env = info.Env();
    Napi::Object o = info[0].As<Napi::Object>();
    SessionOptions so;
    so.bf16 = o.Get("dtype").ToString().Utf8Value() != "f32";
    so.capacityTokens = int_of(o, "capacityTokens", 0);
    so.maxHeadDim = int_of(o, "maxHeadDim", 0);
    so.nf4Fused = bool_of(o, "nf4Fused");
    so.hostDropout = bool_of(o, "hostDropout");
    so.decay = copy_typed<uint8_t>(o.Get("decay"));
    so.trainables = (int64_t)so.decay.size();
    if (o.Has("dynMap")) so.dynMap = copy_typed<float>(o.Get("dynMap"));
    std::map<std::string, int> weightIndex;
    Napi::Array ws = o.Get("weights").As<Napi::Array>();
    for (uint32_t i = 0; i < ws.Length(); i++) {
      Napi::Object w = ws.Get(i).As<Napi::Object>();
      WeightDesc d;
      d.name = w.Get("name").ToString();
      Napi::Array shape = w.Get("shape").As<Napi::Array>();
      for (uint32_t k = 0; k < shape.Length(); k++) d.shape.push_back((int64_t)shape.Get(k).As<Napi::Number>().DoubleValue());
      d.nf4 = bool_of(w, "nf4");
      weightIndex[d.name] = (int)i;
      so.weights.push_back(d);
    }
    Napi::Array plans = o.Get("plans").As<Napi::Array>();
    try {
      for (uint32_t i = 0; i < plans.Length(); i++) so.plans.push_back(parse_plan(plans.Get(i).As<Napi::Object>(), weightIndex));
      session_ = create_session(so);
    } catch (const OutOfMemory& e) {
      throw oom_error(env, e);
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
  }

 private:
  Session* live(Napi::Env env) {
    if (!session_) throw Napi::Error::New(env, "CUDA session is disposed");
    return session_.get();
  }
  template <typename F>
  Napi::Value guarded(Napi::Env env, F f) {
    try {
      return f();
    } catch (const OutOfMemory& e) {
      throw oom_error(env, e);
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
  }

  Napi::Value UploadWeight(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&] {
      Napi::Float32Array a = info[1].As<Napi::Float32Array>();
      live(info.Env())->uploadWeight(info[0].As<Napi::Number>().Int32Value(), a.Data(), (int64_t)a.ElementLength());
      return info.Env().Undefined();
    });
  }
  // uploadNf4(index, { n, codes, absmax? } | { n, codes, qabsmax, absmax2, offset })
  Napi::Value UploadNf4(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&] {
      Napi::Object t = info[1].As<Napi::Object>();
      const int64_t n = (int64_t)num_of(t, "n", 0);
      Napi::Uint8Array codes = t.Get("codes").As<Napi::Uint8Array>();
      if ((int64_t)codes.ElementLength() != (n + 1) / 2) throw Napi::Error::New(info.Env(), "uploadNf4: codes must hold ceil(n / 2) bytes");
      const bool dq = t.Has("qabsmax") && t.Get("qabsmax").IsTypedArray();
      const float* absmax = dq ? nullptr : t.Get("absmax").As<Napi::Float32Array>().Data();
      const uint8_t* q = dq ? t.Get("qabsmax").As<Napi::Uint8Array>().Data() : nullptr;
      const float* a2 = dq ? t.Get("absmax2").As<Napi::Float32Array>().Data() : nullptr;
      live(info.Env())->uploadNf4(info[0].As<Napi::Number>().Int32Value(), codes.Data(), n, absmax, q, a2, (float)num_of(t, "offset", 0));
      return info.Env().Undefined();
    });
  }
  Napi::Value SetTrainables(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&] {
      live(info.Env())->setTrainables(info[0].As<Napi::Float32Array>().Data());
      return info.Env().Undefined();
    });
  }
  Napi::Value download(const Napi::CallbackInfo& info, bool grads) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Float32Array a = Napi::Float32Array::New(info.Env(), info[0].As<Napi::Number>().Int64Value());
      if (grads) live(info.Env())->getGradients(a.Data());
      else live(info.Env())->getTrainables(a.Data());
      return a;
    });
  }
  Napi::Value GetTrainables(const Napi::CallbackInfo& info) { return download(info, false); }
  Napi::Value GetGradients(const Napi::CallbackInfo& info) { return download(info, true); }
  Napi::Value SetMoments(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&] {
      live(info.Env())->setMoments(info[0].As<Napi::Float32Array>().Data(), info[1].As<Napi::Float32Array>().Data());
      return info.Env().Undefined();
    });
  }
  Napi::Value GetMoments(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      const size_t n = (size_t)info[0].As<Napi::Number>().Int64Value();
      Napi::Float32Array m = Napi::Float32Array::New(info.Env(), n), v = Napi::Float32Array::New(info.Env(), n);
      live(info.Env())->getMoments(m.Data(), v.Data());
      Napi::Object r = Napi::Object::New(info.Env());
      r.Set("m", m);
      r.Set("v", v);
      return r;
    });
  }
  // run(mode, { B, T, ids, labels, mask, segments?, positions?, tokenTypes?, targets?, starts?, ends?, cos?, sin?, headDim,
  //             dropoutSeed, hostKeep?, hostKeepOffsets?, V })
  Napi::Value Run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Session* s = live(env);
    Napi::Object b = info[1].As<Napi::Object>();
    RunInput in;
    in.mode = info[0].As<Napi::Number>().Int32Value();
    in.V = int_of(b, "V", 0);
    in.ids = copy_typed<int32_t>(b.Get("ids"));
    in.labels = copy_typed<int32_t>(b.Get("labels"));
    in.mask = copy_typed<uint8_t>(b.Get("mask"));
    if (b.Has("segments") && b.Get("segments").IsTypedArray()) in.segments = copy_typed<int32_t>(b.Get("segments"));
    if (b.Has("positions") && b.Get("positions").IsTypedArray()) in.positions = copy_typed<int32_t>(b.Get("positions"));
    if (b.Has("tokenTypes") && b.Get("tokenTypes").IsTypedArray()) in.tokenTypes = copy_typed<int32_t>(b.Get("tokenTypes"));
    if (b.Has("targets") && b.Get("targets").IsTypedArray()) in.targets = copy_typed<float>(b.Get("targets"));
    if (b.Has("starts") && b.Get("starts").IsTypedArray()) in.starts = copy_typed<int32_t>(b.Get("starts"));
    if (b.Has("ends") && b.Get("ends").IsTypedArray()) in.ends = copy_typed<int32_t>(b.Get("ends"));
    if (b.Has("cos") && b.Get("cos").IsTypedArray()) {
      in.cos = copy_typed<float>(b.Get("cos"));
      in.sin = copy_typed<float>(b.Get("sin"));
    }
    if (b.Has("cosLocal") && b.Get("cosLocal").IsTypedArray()) {
      in.cosLocal = copy_typed<float>(b.Get("cosLocal"));
      in.sinLocal = copy_typed<float>(b.Get("sinLocal"));
    }
    if (b.Has("hostKeep") && b.Get("hostKeep").IsTypedArray()) {
      in.hostKeep = copy_typed<uint8_t>(b.Get("hostKeep"));
      Napi::Array offs = b.Get("hostKeepOffsets").As<Napi::Array>();
      for (uint32_t i = 0; i < offs.Length(); i++) in.batch.hostKeepOffsets.push_back((int64_t)offs.Get(i).As<Napi::Number>().DoubleValue());
    }
    in.batch.B = int_of(b, "B", 0);
    in.batch.T = int_of(b, "T", 0);
    in.batch.headDim = int_of(b, "headDim", 0);
    in.batch.dropoutSeed = (uint32_t)num_of(b, "dropoutSeed", 0);
    const size_t N = (size_t)in.batch.B * in.batch.T;
    if (in.ids.size() != N || in.labels.size() != N || in.mask.size() != N || (!in.segments.empty() && in.segments.size() != N) || (!in.positions.empty() && in.positions.size() != N) ||
        (!in.tokenTypes.empty() && in.tokenTypes.size() != N))
      throw Napi::Error::New(env, "run: ids, labels, mask, segments, positions and token types must each hold B·T values");
    const size_t B = (size_t)in.batch.B;
    if ((!in.targets.empty() && in.targets.size() != B) || (!in.starts.empty() && in.starts.size() != B) || in.ends.size() != in.starts.size())
      throw Napi::Error::New(env, "run: targets, starts and ends must each hold B values");
    const size_t tables = N * (size_t)in.batch.headDim;
    if (in.cos.size() != in.sin.size() || (!in.cos.empty() && in.cos.size() != tables) || (!in.cosLocal.empty() && in.cosLocal.size() != tables))
      throw Napi::Error::New(env, "run: rope tables must each hold B·T·headDim values");
    in.batch.positions = in.positions.empty() ? nullptr : in.positions.data();
    in.batch.tokenTypes = in.tokenTypes.empty() ? nullptr : in.tokenTypes.data();
    in.batch.targets = in.targets.empty() ? nullptr : in.targets.data();
    in.batch.starts = in.starts.empty() ? nullptr : in.starts.data();
    in.batch.ends = in.ends.empty() ? nullptr : in.ends.data();
    in.batch.cosLocal = in.cosLocal.empty() ? nullptr : in.cosLocal.data();
    in.batch.sinLocal = in.sinLocal.empty() ? nullptr : in.sinLocal.data();
    in.batch.ids = in.ids.data();
    in.batch.labels = in.labels.data();
    in.batch.mask = in.mask.data();
    in.batch.segments = in.segments.empty() ? nullptr : in.segments.data();
    in.batch.cos = in.cos.empty() ? nullptr : in.cos.data();
    in.batch.sin = in.sin.empty() ? nullptr : in.sin.data();
    in.batch.hostKeep = in.hostKeep.empty() ? nullptr : in.hostKeep.data();
    auto* w = new RunWorker(env, s, std::move(in));
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }
  Napi::Value ApplyUpdate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object a = info[0].As<Napi::Object>();
    AdamwDesc d{(float)num_of(a, "lr", 0), (float)num_of(a, "beta1", 0.9), (float)num_of(a, "beta2", 0.999), (float)num_of(a, "eps", 1e-8),
                (float)num_of(a, "weightDecay", 0), (float)num_of(a, "biasCorr1", 1), (float)num_of(a, "biasCorr2", 1),
                (float)num_of(a, "invTokens", 1), (float)num_of(a, "clipMax", 3.4e38)};
    auto* w = new UpdateWorker(env, live(env), d);
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }
  Napi::Value DeviceBytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), (double)live(info.Env())->deviceBytes()); }
  Napi::Value PeakBytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), (double)live(info.Env())->peakBytes()); }
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    session_.reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<Session> session_;
};
#endif // LORA_WITH_CUDA

Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object r = Napi::Object::New(env);
#ifdef LORA_WITH_CUDA
  const DeviceInfo d = probe_device();
  r.Set("builtWithCuda", true);
  r.Set("available", d.available);
  r.Set("reason", d.reason);
  r.Set("count", d.count);
  r.Set("name", d.name);
  r.Set("computeCapability", std::to_string(d.major) + "." + std::to_string(d.minor));
  r.Set("multiprocessors", d.multiprocessors);
  r.Set("totalMemory", Napi::Number::New(env, (double)d.totalMemory));
  r.Set("freeMemory", Napi::Number::New(env, (double)d.freeMemory));
  r.Set("driverVersion", d.driverVersion);
  r.Set("runtimeVersion", d.runtimeVersion);
  r.Set("cublasLt", d.cublasLt);
#else
  r.Set("builtWithCuda", false);
  r.Set("available", false);
  r.Set("reason", "the native addon was built without CUDA (run `npm run build:native` where nvcc is installed)");
#endif
  return r;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("probe", Napi::Function::New(env, Probe));
  exports.Set("abiVersion", Napi::Number::New(env, 1)); // bumped when the JS ↔ addon contract changes
#ifdef LORA_WITH_CUDA
  exports.Set("CudaSession", SessionWrap::Init(env));
#endif
  return exports;
}

} // namespace

NODE_API_MODULE(lora_native, Init)
