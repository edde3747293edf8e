export type { CgroupStats } from './cgroup.ts';
export { readCgroup } from './cgroup.ts';
export { HostSampler, SAMPLER_SERVICE } from './host-sampler.ts';
export type { CpuTimes, DiskStats, FilesystemUsage, MemInfo, NetDevStats, Pressure } from './procfs.ts';
export { ProcReader } from './procfs.ts';
