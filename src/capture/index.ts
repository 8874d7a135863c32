/** Offline capture input: pcap/pcapng files → reassembled TCP streams (see pcap-file.ts, tcp-reassembly.ts). */
export { detectCaptureFormat, extractTcpStreams, type CaptureFormat } from './pcap-file.js';
export type { TcpStream } from './tcp-reassembly.js';
