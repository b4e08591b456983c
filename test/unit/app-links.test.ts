import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOCUMENTATION_LINKS, isAllowedExternalLink } from '../../main/app/links';
import { REPO_ROOT } from '../helpers/shared-data';

describe('external links: only our documentation opens', () => {
  it('every allowlisted documentation link opens (a trailing slash too)', () => {
    for (const url of DOCUMENTATION_LINKS) {
      expect(isAllowedExternalLink(url)).toBe(true);
      expect(isAllowedExternalLink(`${url}/`)).toBe(true);
    }
  });

  it('any other https URL, look-alike hosts, credentials, other schemes and garbage do not', () => {
    const kaggle = 'https://www.kaggle.com/competitions/uw-madison-gi-tract-image-segmentation';
    for (const url of [
      'https://example.com/',
      'https://www.kaggle.com/',
      `${kaggle}/../../settings`,
      `${kaggle}?redirect=https://evil.example`,
      'https://www.kaggle.com.evil.example/competitions/uw-madison-gi-tract-image-segmentation',
      'https://www.kaggle.com@evil.example/competitions/uw-madison-gi-tract-image-segmentation',
      'https://www.kaggle.com:8443/competitions/uw-madison-gi-tract-image-segmentation',
      kaggle.replace('https:', 'http:'),
      'file:///etc/passwd',
      'javascript:alert(1)',
      'not a url',
      '',
    ]) {
      expect(isAllowedExternalLink(url), url).toBe(false);
    }
  });

  it('the window uses the allowlist and disables Auxclick (Electronegativity AUXCLICK_JS_CHECK)', () => {
    const source = readFileSync(path.join(REPO_ROOT, 'main/app/window.ts'), 'utf8');
    expect(source).toMatch(/disableBlinkFeatures: 'Auxclick'/);
    expect(source).toMatch(/if \(isAllowedExternalLink\(url\)\) void shell\.openExternal\(url\)/);
    expect(source).not.toMatch(/url\.startsWith\('https:\/\/'\)/);
  });
});
