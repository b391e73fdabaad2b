/** KEDA's `checkpointStrategy` names, apart from the analysis (keda.ts) that only `doctor --keda` loads. */
export const KEDA_STRATEGIES = ['azureFunction', 'blobMetadata', 'goSdk', 'dapr', 'default'] as const
export type KedaStrategy = (typeof KEDA_STRATEGIES)[number]
