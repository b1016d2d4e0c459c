export { Accounting, type AccountingOptions, type BoxReport, type Envelope } from './accounting.ts';
export { Authenticator, type AuthOptions } from './auth.ts';
export { CountyReceiver, MODES, type Mode, type ModeOptions, type ReceiverOptions } from './receiver.ts';
