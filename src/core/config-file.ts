import { accessSync, closeSync, constants, fchmodSync, fchownSync, fstatSync, fsyncSync, ftruncateSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** How a file is rewritten: a copy renamed over it (atomic), or the file itself overwritten (not atomic). */
export type RewriteMethod = 'replace' | 'in place';

export interface RewritePlan {
  /** The file itself: a symlink is resolved, so the link stays a link and its target gets the content. */
  path: string;
  /** The methods that can work here, best first; empty when none can. */
  methods: RewriteMethod[];
  /** Why a method cannot work, for a message; empty when both can. */
  obstacles: string[];
}

/**
 * How `file` could be rewritten by this process, found without writing anything. `access(2)` answers
 * for this process as it is, so it also sees what the mode bits do not tell root: a read-only mount
 * (EROFS) or an immutable file or directory (EPERM, chattr(1) `+i`).
 */
export function planRewrite(file: string): RewritePlan {
  let path: string;
  let stats: Stats;
  try {
    path = realpathSync(file);
    stats = statSync(path);
  } catch (error) {
    return { path: file, methods: [], obstacles: [`it cannot be found (${codeOf(error)})`] };
  }
  const methods: RewriteMethod[] = [];
  const obstacles: string[] = [];
  const directoryProblem = accessProblem(dirname(path), constants.W_OK | constants.X_OK);
  if (directoryProblem) obstacles.push(`its directory is not writable (${directoryProblem})`);
  else if (!canGiveOwner(stats)) obstacles.push(`a new copy could not keep its owner ${stats.uid}:${stats.gid}`);
  else methods.push('replace');
  const fileProblem = accessProblem(path, constants.W_OK);
  if (fileProblem) obstacles.push(`the file is not writable (${fileProblem})`);
  else methods.push('in place');
  return { path, methods, obstacles };
}

/**
 * Writes `content` into the file of a plan by the first method that works, and returns that method;
 * throws, naming each method's failure, when none does. The content is on disk when this returns:
 * the file is fsynced, and after a rename so is its directory (rename(2) is atomic, but durable
 * only once the directory entry is written).
 */
export function rewriteFile(plan: RewritePlan, content: string): RewriteMethod {
  const failures: string[] = [...plan.obstacles];
  for (const method of plan.methods) {
    try {
      if (method === 'replace') replace(plan.path, content);
      else overwrite(plan.path, content);
      return method;
    } catch (error) {
      failures.push(`${method === 'replace' ? 'replacing it' : 'writing it in place'} failed (${codeOf(error)})`);
    }
  }
  throw new Error(failures.join(', '));
}

/** A copy beside the file, with its mode and owner, renamed over it. */
function replace(path: string, content: string): void {
  const stats = statSync(path);
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    try {
      const own = fstatSync(fd);
      if (own.uid !== stats.uid || own.gid !== stats.gid) fchownSync(fd, stats.uid, stats.gid);
      // After the chown, which may clear mode bits; and whatever the umask took from open's mode.
      fchmodSync(fd, stats.mode & 0o7777);
      writeAll(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    unlinkSync(temporary);
    throw error;
  }
  fsyncDirectory(dirname(path));
}

/** The file itself truncated and written: for a file whose directory this process cannot write. */
function overwrite(path: string, content: string): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, 0);
    writeAll(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, content: string): void {
  const bytes = Buffer.from(content, 'utf8');
  for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written, bytes.length - written, written);
}

function fsyncDirectory(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } catch (error) {
    // Some file systems cannot fsync a directory; the rename is done and the file's data is on disk.
    if (codeOf(error) !== 'EINVAL') throw error;
  } finally {
    closeSync(fd);
  }
}

/** chown(2): root may give a file any owner; anyone else only their own uid and one of their groups. */
function canGiveOwner(stats: Stats): boolean {
  const uid = process.getuid?.();
  if (uid === undefined || uid === 0) return true;
  return stats.uid === uid && (stats.gid === process.getgid?.() || (process.getgroups?.() ?? []).includes(stats.gid));
}

function accessProblem(path: string, mode: number): string | undefined {
  try {
    accessSync(path, mode);
    return undefined;
  } catch (error) {
    return codeOf(error);
  }
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}
