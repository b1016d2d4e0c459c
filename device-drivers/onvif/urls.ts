/** Addresses: the box reaches a camera at its configured host:port, whatever the camera says about itself. */

export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}${port === 80 ? '' : `:${port}`}`;
}

/** A URL the camera gave, pointed at the address the box reaches it by (cameras behind NAT report their LAN address). */
export function rewriteUrl(url: string, host: string, port: number): string {
  try {
    const u = new URL(url);
    if (u.hostname === host || u.hostname === `[${host}]`) return url;
    u.hostname = host;
    if (u.protocol === 'http:') u.port = port === 80 ? '' : String(port);
    return u.toString();
  } catch {
    return url;
  }
}
