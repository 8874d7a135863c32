import type { DecodeError } from './decode-error.js';

/** The public shape of every decoder's answer: a value or a typed error, never a throw. */
export type Result<T, E = DecodeError> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });
