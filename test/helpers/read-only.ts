import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Makes a file or directory unwritable for this process and returns the undo. Mode bits do not stop
 * root, so as root the path is made immutable (chattr +i, which needs CAP_LINUX_IMMUTABLE): then even
 * root cannot create, rename or write there (EPERM), as a read-only mount would refuse it (EROFS).
 */
export function makeUnwritable(path: string): () => void {
  if (process.getuid?.() === 0) {
    execFileSync('chattr', ['+i', path], { stdio: 'ignore' });
    return () => execFileSync('chattr', ['-i', path], { stdio: 'ignore' });
  }
  const mode = statSync(path).mode & 0o7777;
  chmodSync(path, mode & ~0o222);
  return () => chmodSync(path, mode);
}

/** Whether `makeUnwritable` works here (as root it needs chattr and the capability); tried once on a scratch directory. */
export const CAN_MAKE_UNWRITABLE = (() => {
  const scratch = mkdtempSync(join(tmpdir(), 'tap-convo-lock-probe-'));
  try {
    makeUnwritable(scratch)();
    return true;
  } catch {
    return false;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
})();
