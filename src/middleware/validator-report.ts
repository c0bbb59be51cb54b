// How validator reports a broken rule: by throwing a ValidationError (the default), or by
// handing it to `onViolation` and letting the call go through unchanged.
import { ValidationError, type ErrorCode } from '../errors';

export type Side = 'server' | 'application';

/** Reports one violation; throws unless the validator was given onViolation. */
export type Report = (code: ErrorCode, side: Side, rule: string, message: string) => void;

export function reporter(onViolation: ((error: ValidationError) => void) | undefined): Report {
  return (code, side, rule, message) => {
    const error = new ValidationError(code, side, rule, message);
    if (onViolation === undefined) throw error;
    onViolation(error);
  };
}
