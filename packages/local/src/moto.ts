import { execFileSync } from 'node:child_process';

/** The Python interpreter that has moto (MOTO_PYTHON, default python3). */
export const motoPython = () => process.env.MOTO_PYTHON ?? 'python3';

/** Whether moto_server can run here (the second emulator is optional on a machine): its module imports. */
export function motoAvailable(): boolean {
  try {
    execFileSync(motoPython(), ['-c', 'import moto.server'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
