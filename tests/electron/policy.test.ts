import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_ORIGIN, appUrlToFile, desktopCsp, isAppUrl, isExternalWebUrl } from '../../src/main/electron/policy.ts';

describe('desktop shell policy', () => {
  it('allows navigation only within the app (or the dev server in development)', () => {
    expect(isAppUrl(`${APP_ORIGIN}/index.html`, null)).toBe(true);
    expect(isAppUrl(`${APP_ORIGIN}/projects`, null)).toBe(true);
    for (const url of ['https://example.com/', 'file:///etc/passwd', 'app://other/index.html', 'http://localhost:5173/', 'not a url']) {
      expect(isAppUrl(url, null), url).toBe(false);
    }
    expect(isAppUrl('http://localhost:5173/#/runs', 'http://localhost:5173')).toBe(true);
    expect(isAppUrl('http://localhost:5174/', 'http://localhost:5173')).toBe(false);
  });

  it('opens only http(s) links externally', () => {
    expect(isExternalWebUrl('https://huggingface.co/docs')).toBe(true);
    expect(isExternalWebUrl('file:///home/me/.ssh/id_rsa')).toBe(false);
    expect(isExternalWebUrl('javascript:alert(1)')).toBe(false);
    expect(isExternalWebUrl('smb://host/share')).toBe(false);
  });

  it('has a strict production CSP and a dev CSP that only adds what Vite needs', () => {
    const prod = desktopCsp(null);
    expect(prod).toContain("script-src 'self'");
    expect(prod).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/);
    expect(prod).toContain("connect-src 'self'");
    const dev = desktopCsp('http://localhost:5173');
    expect(dev).toContain('connect-src \'self\' ws://localhost:5173');
    expect(dev).not.toContain('unsafe-eval');
  });

  it('maps app:// URLs to files inside the renderer folder only', () => {
    const dir = '/opt/studio/out/renderer';
    expect(appUrlToFile(`${APP_ORIGIN}/index.html`, dir)).toBe(join(dir, 'index.html'));
    expect(appUrlToFile(`${APP_ORIGIN}/assets/index-abc.js`, dir)).toBe(join(dir, 'assets/index-abc.js'));
    expect(appUrlToFile(`${APP_ORIGIN}/projects/42`, dir)).toBe(join(dir, 'index.html')); // client-side route
    // Encoded "../" is clamped at the renderer folder: the request can only name a file inside it.
    expect(appUrlToFile(`${APP_ORIGIN}/..%2f..%2fsecret.txt`, dir)).toBe(join(dir, 'secret.txt'));
    expect(appUrlToFile(`${APP_ORIGIN}/%2e%2e/%2e%2e/etc/passwd.txt`, dir)).toBe(join(dir, 'etc/passwd.txt'));
    expect(appUrlToFile(`${APP_ORIGIN}/a%00.js`, dir)).toBeNull();
    expect(appUrlToFile('app://elsewhere/index.html', dir)).toBeNull();
  });
});
