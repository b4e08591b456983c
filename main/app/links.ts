/**
 * The external links the app may open in the system browser: an allowlist of our own documentation pages,
 * compared exactly (scheme, host, path), so a link injected into a page or a look-alike host opens
 * nothing. Pure (no Electron) so it is unit-tested; window.ts applies it.
 */

/** Documentation Tractus links to: the dataset its model and formats follow. */
export const DOCUMENTATION_LINKS: readonly string[] = [
  // the UW-Madison GI Tract dataset and its Kaggle layout (ids, RLE) that Tractus reads and writes
  'https://www.kaggle.com/competitions/uw-madison-gi-tract-image-segmentation',
  'https://www.kaggle.com/competitions/uw-madison-gi-tract-image-segmentation/data',
  // Lee et al., Data in Brief 57 (2024) 111159: the dataset's description
  'https://doi.org/10.1016/j.dib.2024.111159',
];

const ALLOWED = new Set(DOCUMENTATION_LINKS);

/** True only for an https URL whose origin and path (after normalisation) are in the allowlist. */
export function isAllowedExternalLink(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'https:' || parsed.username !== '' || parsed.password !== '') return false;
  if (parsed.port !== '' || parsed.search !== '') return false;
  const path = parsed.pathname.replace(/\/+$/, '');
  return ALLOWED.has(`${parsed.origin}${path}`);
}
