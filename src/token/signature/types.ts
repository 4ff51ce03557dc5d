/** `valid`/`invalid` for a checked signature; `unusable` when the key could not be imported. */
export type SignatureCheck = 'valid' | 'invalid' | 'unusable';
