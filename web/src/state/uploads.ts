/* Files on their way out (engine/files.ts): one entry per file from the moment it is picked
 * until its message is sent, for the composer's progress bars. */
import { create } from 'zustand';

export type UploadState = 'preparing' | 'uploading' | 'paused' | 'failed' | 'sending';

export interface UploadJob {
  localId: string;
  conversationId: string;
  name: string;
  size: number;
  state: UploadState;
  /** Ciphertext bytes the server holds, of `total`. */
  sent: number;
  total: number;
  /** Why it failed: an i18n key. */
  error?: 'fileTooLarge' | 'uploadFailed';
}

interface Uploads {
  jobs: UploadJob[];
  put(job: UploadJob): void;
  patch(localId: string, change: Partial<UploadJob>): void;
  drop(localId: string): void;
}

export const useUploads = create<Uploads>((set) => ({
  jobs: [],
  put: (job) => set((s) => ({ jobs: [...s.jobs.filter((j) => j.localId !== job.localId), job] })),
  patch: (localId, change) => set((s) => ({ jobs: s.jobs.map((j) => (j.localId === localId ? { ...j, ...change } : j)) })),
  drop: (localId) => set((s) => ({ jobs: s.jobs.filter((j) => j.localId !== localId) })),
}));
