/**
 * @mvvm/scheduler: SystemMonitor (host metrics from /proc and /sys), the trigger detector
 * (K samples, cooldown, trend), the migration policy, and WasmScheduler (time-sliced tasks,
 * migrated through a MigrationTransport), plus the daemon and its control endpoint.
 * Node-only.
 */
export { ConfigError, DEFAULTS, loadConfig, parseHostPort, parseTargets } from './config';
export type { SchedulerConfig, Target, Thresholds } from './config';
export { SystemMonitor, describeSample } from './monitor';
export type { Metric, MonitorOptions, Sample } from './monitor';
export { TriggerDetector, describeTrigger, METRIC_NAMES } from './trigger';
export type { DetectorOptions, Trigger } from './trigger';
export { chooseMoves, reliefMb } from './policy';
export type { Candidate, Move } from './policy';
export { FINISHED, TaskTable, applyJsonPatches, toJsonPatch } from './table';
export type { JsonPatch, TableState, TaskRow, TaskState } from './table';
export { SchedulerError, WasmScheduler } from './scheduler';
export type { SchedulerOptions, TaskSpec } from './scheduler';
export { formatEndpoint } from './transport';
export type { Arrival, Departure, Endpoint, Listening, MigrationTransport, SendReport } from './transport';
export { InDoubtError, TaskEndedError, migrateTransport } from './migrate-transport';
export type { MigrateTransportOptions } from './migrate-transport';
export { describeControl, parseControl, startControl } from './control';
export type { ControlAddress, ControlContext, ControlServer } from './control';
export { ControlError, call, watch } from './client';
export type { ClientOptions } from './client';
export { defaultControl, startDaemon } from './daemon';
export type { Daemon, DaemonOptions } from './daemon';
