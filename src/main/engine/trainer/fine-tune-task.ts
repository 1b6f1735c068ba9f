// One encoder-task fine-tune (classification or extractive QA) from a run config: the task's data (task-data.ts),
// the task model (task-session.ts), the trainer with the task's evaluation — metrics at every eval point and at the
// end, the best checkpoint kept in <outputDir>/best — and the summary. fineTune() hands runs with a task here.
import { say } from '../../../common/api/phrases.ts';
import { TASK_METRIC, questionAnsweringSettings } from '../../../common/api/runs.ts';
import { EncoderTokenizer } from '../../formats/tokenizer/encoder/index.ts';
import { latestCheckpoint } from './checkpoint.ts';
import { metricValues, type FineTuneOptions, type FineTuneResult } from './fine-tune.ts';
import { loadTaskData, TaskBatchPlan, taskTarget, type TaskData } from './task-data.ts';
import { evaluateTask, logitsSession } from './task-evaluate.ts';
import { openTaskModelSession, type TaskHeadRequest } from './task-session.ts';
import { planSteps, train, type TrainResult } from './trainer.ts';
import { defaultThreads } from '../executors/onnx/ort.ts';
import { openEncoderFusion, reportEncoderFusion } from '../fusion/encoder.ts';
import { attentionMap } from '../fusion/report.ts';

export function headRequest(data: TaskData): TaskHeadRequest {
  if (data.task === 'question-answering') return { task: 'question_answering' };
  return data.problemType === 'regression'
    ? { task: 'sequence_classification', regression: true }
    : { task: 'sequence_classification', labels: data.labels };
}

export async function fineTuneTask(options: FineTuneOptions): Promise<FineTuneResult> {
  const { config, reporter } = options;
  reporter.progress(null, say('progress.loadingData'));
  const tokenizer = EncoderTokenizer.load(config.model);
  const data = await loadTaskData(config, tokenizer);
  if (data.task === 'classification') {
    reporter.log(
      `dataset: ${data.train.length} training and ${data.eval.length} eval rows; ` +
        (data.problemType === 'regression'
          ? 'regression (one float label)'
          : `${data.labels.length} labels: ${data.labels.join(', ')}`) +
        (data.truncated ? `; ${data.truncated} cut to ${config.max_seq_length} tokens` : ''),
    );
  } else {
    reporter.log(
      `dataset: ${data.trainQuestions} training questions in ${data.train.length} windows; ${data.evalExamples.length} eval questions in ${data.eval.length} windows (max length ${config.max_seq_length}, doc stride ${questionAnsweringSettings(config).doc_stride})`,
    );
  }
  for (const problem of data.problems.slice(0, 20)) reporter.log(`skipped bad row: ${problem}`, 'warn');
  if (data.eval.length === 0)
    reporter.log(
      'no eval split: the task’s metrics and the best checkpoint need one (eval_split ratio or file)',
      'warn',
    );

  reporter.progress(null, say('progress.loadingModel'));
  // a run with a fusion section combines frozen classification or QA adapters (engine/fusion/encoder.ts)
  if (config.fusion && data.task === 'classification' && data.problemType === 'regression')
    throw new Error('combining adapters on an encoder works for classification and question-answering runs; this run is a regression');
  const fusion = config.fusion ? await openEncoderFusion(config, data.task === 'classification' ? data.labels : null, defaultThreads()) : null;
  if (fusion) reporter.log(`combining ${fusion.inputs.adapters.length} frozen adapters (${config.fusion!.mode} mode) over ${fusion.fused.modules.length} linear layers, the head (${fusion.inputs.modulesToSave.join(', ')}) trained with them`);
  const opened = fusion
    ? { ...fusion, spec: fusion.inputs.spec }
    : await openTaskModelSession({ config, request: headRequest(data), threads: defaultThreads() });
  reporter.log(`model: ${opened.spec.architecture}; executor: ${opened.executor.name} (${opened.executor.reason})`);
  for (const warning of opened.warnings) reporter.log(warning, 'warn');
  reporter.log(
    `trainable parameters: ${opened.trainableParameters.toLocaleString('en-US')} of ${opened.totalParameters.toLocaleString('en-US')}`,
  );

  const target = taskTarget(data);
  const planOptions = {
    seed: config.seed,
    microBatchSize: config.micro_batch_size,
    maxLength: config.max_seq_length,
    padId: data.padId,
  };
  const trainPlan = new TaskBatchPlan(data.train, planOptions, target);
  const evalPlan = data.eval.length
    ? new TaskBatchPlan(data.eval, { ...planOptions, shuffle: false }, target)
    : undefined;
  const planned = planSteps(config, trainPlan.microBatchesInEpoch(0)).totalSteps;
  const metric = TASK_METRIC[config.task];
  const qa = config.task === 'question-answering' ? questionAnsweringSettings(config) : null;
  const forward = logitsSession(opened.session);
  let resumeFrom: string | undefined;
  if (options.resume) {
    resumeFrom = (await latestCheckpoint(options.outputDir)) ?? undefined;
    reporter.log(
      resumeFrom ? `resuming from ${resumeFrom}` : 'no checkpoint to resume from yet: starting from the beginning',
    );
  }
  const evaluateOptions = qa
    ? {
        nBestSize: qa.n_best_size,
        maxAnswerLength: qa.max_answer_length,
        version2: qa.version_2_with_negative,
        nullScoreDiffThreshold: qa.null_score_diff_threshold,
      }
    : {};

  let result: TrainResult;
  try {
    result = await train({
      session: opened.session,
      hyperparameters: config,
      train: trainPlan,
      eval: evalPlan,
      outputDir: options.outputDir,
      runConfig: config,
      writeAdapter: opened.writeAdapter,
      resumeFrom,
      datasetHash: data.datasetHash,
      acceptDatasetChange: options.acceptDatasetChange,
      signal: options.signal,
      taskEvaluation: evalPlan
        ? {
            best: { key: metric.key as `eval_${string}`, higherIsBetter: metric.higherIsBetter },
            evaluate: async (_session, signal) => {
              const r = await evaluateTask(forward, evalPlan, data, { signal, ...evaluateOptions });
              return { loss: r.loss, metrics: r.metrics };
            },
          }
        : undefined,
      onLog: (entry) => {
        const live: Record<string, number> =
          entry.loss === undefined
            ? {}
            : {
                peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
                trainable_parameters: opened.trainableParameters,
              };
        reporter.metric(entry.step, { ...metricValues(entry), ...live });
        if (entry.loss !== undefined)
          reporter.progress(
            Math.min(1, entry.step / planned),
            say('progress.step', { step: entry.step, total: planned, loss: entry.loss }),
            entry.eta_seconds ?? null,
          );
        else {
          const values = metricValues(entry);
          const shown = Object.entries(values)
            .filter(([k]) => k.startsWith('eval_'))
            .map(([k, v]) => `${k.slice(5)} ${v.toFixed(4)}`)
            .join(', ');
          reporter.log(`step ${entry.step}: ${shown}`);
        }
      },
      onCheckpoint: (dir) => reporter.log(`checkpoint saved: ${dir}`, 'debug'),
      onWarning: (message) => reporter.log(message, 'warn'),
    });
    // a combination is compared with each adapter alone and their uniform average by the task's metric
    if (fusion && evalPlan && result.status === 'completed')
      await reportEncoderFusion({
        fusion,
        config,
        metric: data.task === 'classification' ? 'accuracy' : 'f1',
        evaluate: async (s) => {
          const m = (await evaluateTask(logitsSession(s), evalPlan, data, { signal: options.signal, ...evaluateOptions })).metrics;
          return data.task === 'classification' ? { value: m.eval_accuracy } : { value: m.eval_f1, exactMatch: m.eval_exact_match };
        },
        outputDir: options.outputDir,
        reporter,
        // attention mode: each adapter's mean weight per layer over the eval rows, from the session's own graph
        attentionMap: () =>
          attentionMap(fusion.session, fusion.fused, () => new Map([...fusion.inputs.baseWeights, ...fusion.inputs.head, ...fusion.fused.weights]), evalPlan),
      });
  } finally {
    await opened.session.dispose();
  }
  if (result.best)
    reporter.log(
      `best ${metric.name}: ${result.best.value.toFixed(4)} at step ${result.best.step} (kept in ${result.best.path})`,
    );
  const lastEval = result.evaluation;
  return {
    status: result.status,
    datasetHash: data.datasetHash,
    summary: {
      steps: result.globalStep,
      totalSteps: result.totalSteps,
      epoch: result.epoch,
      trainLoss: result.trainLoss,
      evalLoss: lastEval && Number.isFinite(lastEval.loss) ? lastEval.loss : null,
      evalPerplexity: null,
      trainedTokens: result.trainedTokens,
      seconds: result.elapsedSeconds,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      trainableParameters: opened.trainableParameters,
      adapterPath: result.adapterDir,
      checkpointPath: result.lastCheckpoint,
      evalMetrics: result.evalMetrics,
      best: result.best,
      labels: data.task === 'classification' && data.problemType !== 'regression' ? data.labels : null,
    },
  };
}
