// Test helpers that capture the CnlabError a call throws (or a promise rejects with), failing the test
// when it succeeds or fails with anything else, so assertions can look at the code and message.
import { CnlabError } from '../../src-main/core/errors';

export function thrownCnlabError(action: () => unknown): CnlabError {
  try {
    action();
  } catch (error) {
    if (error instanceof CnlabError) return error;
    throw error;
  }
  throw new Error('expected a CnlabError, but the call succeeded');
}

export async function rejectedCnlabError(promise: Promise<unknown>): Promise<CnlabError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CnlabError) return error;
    throw error;
  }
  throw new Error('expected a CnlabError, but the call succeeded');
}
