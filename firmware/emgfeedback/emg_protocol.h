/*
 * emg_protocol.h - constants of the emgfeedback device protocol, version 1.
 *
 * The byte layout is specified in docs/protocol.md; the host decoder is
 * emgfeedback/io/frame_protocol.py. Keep the three in step.
 */
#ifndef EMG_PROTOCOL_H
#define EMG_PROTOCOL_H

#define EMG_PROTO_VERSION 1

/* Every frame starts with these two bytes. */
#define EMG_SYNC0 0xA7
#define EMG_SYNC1 0x7E

/* flags byte: bits 0-2 channel count, bit 3 overrun (data frames) or stream
 * start (info frames), bits 4-7 frame type. */
#define EMG_FLAG_CH_MASK 0x07
#define EMG_FLAG_OVERRUN 0x08
#define EMG_FLAG_START 0x08
#define EMG_TYPE_DATA 0x00
#define EMG_TYPE_INFO 0x10

/* Data frame: sync(2) seq(2) flags(1) samples(2N) crc(2). */
#define EMG_DATA_FRAME_LEN(n) (7 + 2 * (n))
/* Info frame: sync(2) seq(2) flags(1) len(1) payload(L) crc(2). */
#define EMG_INFO_MAX_PAYLOAD 120

/* Host -> device command bytes. */
#define EMG_CMD_START 'S'
#define EMG_CMD_STOP 'X'
#define EMG_CMD_INFO 'I'
#define EMG_CMD_CHANNELS 'C' /* + 1 byte: 1..4 */
#define EMG_CMD_RATE 'F'     /* + uint16 LE: 500..2000 Hz */

#define EMG_MIN_FS 500
#define EMG_MAX_FS 2000
#define EMG_MAX_CHANNELS 4

#endif /* EMG_PROTOCOL_H */
