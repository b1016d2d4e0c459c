import { x } from './xml.ts';

/** SOAP 1.2 envelopes and faults as the simulated camera writes them. */
const NAMESPACES = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  wsa: 'http://www.w3.org/2005/08/addressing',
  tt: 'http://www.onvif.org/ver10/schema',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  tptz: 'http://www.onvif.org/ver20/ptz/wsdl',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  wstop: 'http://docs.oasis-open.org/wsn/t-1',
  wsrf: 'http://docs.oasis-open.org/wsrf/r-2',
  tns1: 'http://www.onvif.org/ver10/topics',
  ter: 'http://www.onvif.org/ver10/error',
};

const DECL = Object.entries(NAMESPACES)
  .map(([p, u]) => `xmlns:${p}="${u}"`)
  .join(' ');

export interface Reply {
  status: number;
  body: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export function envelope(body: string, action?: string): string {
  const header = action ? `<s:Header><wsa:Action>${x(action)}</wsa:Action></s:Header>` : '<s:Header/>';
  return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope ${DECL}>${header}<s:Body>${body}</s:Body></s:Envelope>`;
}

export function ok(body: string, action?: string): Reply {
  return { status: 200, body: envelope(body, action) };
}

/** A SOAP fault: Sender faults are HTTP 400, Receiver faults HTTP 500 (SOAP 1.2 HTTP binding). */
export function fault(code: 'Sender' | 'Receiver', subcodes: string[], reason: string, detail = ''): Reply {
  const sub = subcodes.reduceRight((inner, s) => `<s:Subcode><s:Value>${s}</s:Value>${inner}</s:Subcode>`, '');
  return {
    status: code === 'Sender' ? 400 : 500,
    body: envelope(
      `<s:Fault><s:Code><s:Value>s:${code}</s:Value>${sub}</s:Code><s:Reason><s:Text xml:lang="en">${x(reason)}</s:Text></s:Reason>` +
        `${detail ? `<s:Detail>${detail}</s:Detail>` : ''}</s:Fault>`,
    ),
  };
}

export const notSupported = (op: string) => fault('Receiver', ['ter:ActionNotSupported'], `${op} is not supported by this device`);
export const badArg = (what: string) => fault('Sender', ['ter:InvalidArgVal'], what);
