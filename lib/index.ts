// The package's public face: re-exports only. Layers, from the bottom:
// timing/ and run/, then stage/, then pipeline/, then json/, gulp/ and cli/;
// ARCHITECTURE.md at the top of the repository is the map.

export { stage, Stage } from './stage/stage.js';
export type { ModuleStage, StageFunction, StageOutput } from './stage/stage-types.js';
export type { StageOptions, ErrorPolicy } from './stage/stage-options.js';
export type { Transport } from './run/transport.js';
export { createWorkerPool, defaultWorkerPool } from './run/worker-pool.js';
export type { WorkerPool, WorkerPoolOptions, WorkerPoolStats } from './run/worker-pool.js';
export type { ModuleRef } from './stage/stage-target.js';
export { createPipeline, Pipeline } from './pipeline/pipeline.js';
export type { PipelineOptions } from './pipeline/pipeline.js';
export type { CheckedStages, PipelineInput, PipelineOutput, StageInput, StageOutputOf } from './pipeline/pipeline-types.js';
export { AsyncTaskPipeline } from './pipeline/async-task-pipeline.js';
export type { AsyncTaskPipelineOptions, StopOptions, StopResult } from './pipeline/async-task-pipeline.js';
export { PipelineItem } from './timing/pipeline-item.js';
export type { TimingBreakdown, StageBreakdown } from './timing/pipeline-item.js';
export { DetailedTiming } from './timing/detailed-timing.js';
export { StageError } from './errors.js';
export type { StageErrorCode } from './errors.js';
export type { StageCounts, StageStats, StageStatsJSON, StageLatencyJSON } from './stage/stage-stats.js';
export type { LatencySummary, RecentItem, StageStatistics, StageTimingBreakdown, PipelineReport } from './pipeline/summary.js';
export type { ChromeTrace, TraceEvent } from './pipeline/trace.js';
export type { Bottleneck, ThroughputLimit, ThroughputSummary } from './pipeline/bottleneck.js';
export type { HtmlReportOptions } from './pipeline/report/html-report.js';
export { jsonArray } from './json/json-array.js';
export type { JsonArrayOptions } from './json/json-array.js';
export { jsonLines, JsonLineError } from './json/json-lines.js';
export type { JsonLinesOptions, JsonLinesStream } from './json/json-lines.js';
export { toJsonLines } from './json/to-json-lines.js';
export type { ToJsonLinesOptions } from './json/to-json-lines.js';
export { gulpStage, GulpStage } from './gulp/gulp-stage.js';
export type { GulpStageOptions } from './gulp/gulp-stage.js';
export { GulpPluginError } from './gulp/plugin-error.js';
export type { GulpFileData, GulpFileFunction, GulpFileResult } from './gulp/file-data.js';
