export { hubCacheDir, hfHome, repoFolderName, cachedCommit, offlineFromEnv, resolveToken, resolveEndpoint, listCachedSnapshots, type RepoType, type CachedSnapshot } from './cache.ts';
export { resolveRepo, fetchFiles, HubError, formatBytes, type HubErrorCode, type HubFileEntry, type HubOptions, type HubProgress, type ResolvedRepo, type FetchResult } from './download.ts';
export { pullModel, pullDataset, selectWeightFiles, splitOf, MODEL_META_FILES, type PulledRepo, type PulledDataset } from './pull.ts';
