/** A snapshot or journal that fails its checks. Callers recover from the previous snapshot plus journal. */
export class CorruptIndexError extends Error {
  constructor(
    readonly code: 'Index::CorruptSnapshot' | 'Index::TruncatedSnapshot' | 'Index::UnsupportedVersion' | 'Index::CorruptJournal',
    message: string,
  ) {
    super(message);
    this.name = 'CorruptIndexError';
  }
}
