/*
 * emgfeedback.ino - timer-driven 1-4 channel sEMG sampler for the ATmega328P
 * (Arduino Uno / Nano, 16 MHz), streaming binary frames (docs/protocol.md).
 *
 * Data path, all interrupt driven (loop() only parses commands and sleeps):
 *
 *   Timer1 CTC compare A at fs  -> starts the conversion of A0
 *   ADC complete                -> stores the sample, starts the next channel;
 *                                  after the last one builds the frame (with
 *                                  CRC) and queues it in the TX ring, or drops
 *                                  it and flags an overrun if there is no room
 *   USART data register empty   -> sends the next byte of the TX ring
 *
 * The conversion is started from the timer ISR and chained from the ADC ISR
 * rather than using ADC auto-trigger: that is portable across AVRs and is the
 * only way simavr (which does not implement timer auto-trigger) runs it.
 *
 * The UART is driven through its registers instead of the core's `Serial`:
 * a frame must be queued atomically (all of it or none of it) from the ADC
 * ISR, and Serial.write() blocks with interrupts off when its 64-byte buffer is
 * full (a deadlock risk inside an ISR), offers no "room for N bytes" check that
 * is atomic with the write, and costs a virtual call per byte. Serial is not
 * referenced, so HardwareSerial0.o (which defines the same two USART vectors)
 * is never linked; referencing it would fail the link loudly.
 *
 * Compile-time settings (pass with -D, e.g. `make EXTRA_FLAGS=-DEMG_DEFAULT_FS=2000`):
 *   EMG_DEFAULT_FS        boot sample rate in Hz, 500..2000 (default 1000)
 *   EMG_DEFAULT_CHANNELS  boot channel count, 1..4 (default 4)
 *   EMG_VREF_MV           ADC reference (AVcc) in mV, reported to the host (default 5000)
 *   EMG_BAUD              UART baud rate, must divide 16 MHz / 8 exactly (default 500000)
 */
#include <avr/io.h>
#include <avr/interrupt.h>
#include <avr/sleep.h>
#include <stdlib.h>
#include <string.h>
#include <util/crc16.h>

#include "emg_protocol.h"

#define EMG_FW_VERSION "emgfeedback-1.0.0"

#ifndef EMG_DEFAULT_FS
#define EMG_DEFAULT_FS 1000
#endif
#ifndef EMG_DEFAULT_CHANNELS
#define EMG_DEFAULT_CHANNELS 4
#endif
#ifndef EMG_VREF_MV
#define EMG_VREF_MV 5000
#endif
#ifndef EMG_BAUD
#define EMG_BAUD 500000UL
#endif

/* U2X mode: baud = F_CPU / (8 * (UBRR + 1)); 500000 -> UBRR = 3, 1000000 -> UBRR = 1. */
#define EMG_UBRR ((F_CPU / 8UL) / (EMG_BAUD) - 1UL)

static_assert(F_CPU == 16000000UL, "timing below assumes a 16 MHz clock");
static_assert(EMG_DEFAULT_FS >= EMG_MIN_FS && EMG_DEFAULT_FS <= EMG_MAX_FS, "EMG_DEFAULT_FS out of range");
static_assert(EMG_DEFAULT_CHANNELS >= 1 && EMG_DEFAULT_CHANNELS <= EMG_MAX_CHANNELS,
              "EMG_DEFAULT_CHANNELS out of range");
static_assert((F_CPU / 8UL) % (EMG_BAUD) == 0, "EMG_BAUD is not an exact divisor of F_CPU/8");
/* Link budget at the worst case, 4 ch x 2 kHz: 15 B x 2000 = 30 kB/s against
 * EMG_BAUD / 10 bytes/s (50 kB/s at 500000 baud). */
static_assert(15UL * EMG_MAX_FS * 10UL < (EMG_BAUD) * 8UL / 10UL, "baud rate cannot carry 4 ch at the maximum rate");

/*
 * ADC clock F_CPU/128 = 125 kHz (inside the 50-200 kHz range the datasheet
 * asks for full 10-bit accuracy): 13 ADC clocks = 104 us a conversion, plus up
 * to one ADC clock to synchronise each start and the ISR hop between channels.
 * When the chain would not fit in the tick with room to spare (4 channels above
 * about 1.8 kHz) the ADC clock doubles to 250 kHz (52 us a conversion; a little
 * less linear, still well under the noise of an sEMG front end). A tick that
 * finds the previous chain still running is dropped and flagged as an overrun.
 */
#define ADCSRA_BASE (_BV(ADEN) | _BV(ADIE))
#define ADPS_128 (_BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0))
#define ADPS_64 (_BV(ADPS2) | _BV(ADPS1))
#define ADC_CHAIN_MARGIN_CYCLES 1200 /* ISR hops, frame completion, other ISRs */
#define ADMUX_REF _BV(REFS0)         /* AVcc reference, right-adjusted result */
#define ADMUX_GND 0x0F               /* MUX3..0 = 1111: 0 V (GND) */

/* Command arguments must follow their command byte within this time. */
#define ARG_TIMEOUT_MS 100

/* ---- TX ring: 256 bytes so the uint8_t indices wrap by themselves. ----
 * Producers: the ADC ISR, and loop() with interrupts disabled; consumer: the
 * UDRE ISR. AVR ISRs do not nest, so each side sees the other's index change
 * atomically (single-byte indices). One slot stays empty: 255 usable bytes. */
static uint8_t tx_ring[256];
static volatile uint8_t tx_head; /* next byte to write */
static volatile uint8_t tx_tail; /* next byte to send */

/* ---- RX ring for command bytes (RX ISR -> loop()). ---- */
#define RX_SIZE 16
static uint8_t rx_ring[RX_SIZE];
static volatile uint8_t rx_head;
static volatile uint8_t rx_tail;

/* ---- Acquisition state. ---- */
static volatile uint8_t streaming;   /* the timer ISR starts conversions only when set */
static volatile uint8_t adc_busy;    /* a conversion chain is running */
static volatile uint8_t overrun;     /* a tick was dropped since the last frame sent */
static volatile uint16_t seq;        /* seq of the next tick */
static volatile uint16_t frame_seq;  /* seq of the tick being converted */
static volatile uint8_t n_channels = EMG_DEFAULT_CHANNELS;
static uint16_t fs_hz = EMG_DEFAULT_FS;
static uint8_t adcsra_run = ADCSRA_BASE | ADPS_128; /* ADCSRA while sampling */

/* The frame being converted: header written by the timer ISR, one sample per
 * ADC ISR, the CRC updated as the bytes arrive. The CRC work is done after the
 * next conversion has been started, so it runs in the shadow of the ADC and the
 * last ISR of a chain has only the final sample, the CRC bytes and the copy. */
static uint8_t stage[EMG_DATA_FRAME_LEN(EMG_MAX_CHANNELS)];
static uint8_t stage_pos; /* next sample byte in stage[] */
static uint8_t stage_n;   /* channels in this chain */
static uint16_t stage_crc;

static inline uint8_t tx_free(void)
{
    return (uint8_t)(tx_tail - tx_head - 1);
}

/* Copy a complete frame into the TX ring and make sure the UDRE ISR runs.
 * Call from an ISR or with interrupts disabled, after checking tx_free(). */
static void tx_put(const uint8_t *p, uint8_t n)
{
    uint8_t h = tx_head;
    while (n--)
        tx_ring[h++] = *p++;
    tx_head = h;
    UCSR0B |= _BV(UDRIE0);
}

ISR(USART_UDRE_vect)
{
    uint8_t t = tx_tail;
    UDR0 = tx_ring[t++];
    tx_tail = t;
    if (t == tx_head)
        UCSR0B &= (uint8_t)~_BV(UDRIE0);
}

ISR(USART_RX_vect)
{
    uint8_t status = UCSR0A; /* must be read before UDR0 */
    uint8_t b = UDR0;
    if (status & (_BV(FE0) | _BV(UPE0)))
        return; /* a garbled byte is not a command */
    uint8_t h = rx_head;
    uint8_t nh = (uint8_t)((h + 1) % RX_SIZE);
    if (nh != rx_tail) {
        rx_ring[h] = b;
        rx_head = nh;
    }
}

ISR(TIMER1_COMPA_vect)
{
    if (!streaming)
        return;
    uint16_t s = seq;
    seq = s + 1; /* every tick counts, sent or not */
    if (adc_busy) {
        overrun = 1;
        return;
    }
    ADMUX = ADMUX_REF | 0;
    ADCSRA = adcsra_run | _BV(ADSC); /* sample first, bookkeeping after */
    adc_busy = 1;
    frame_seq = s;

    /* The overrun flag is latched now; a drop from here on (this frame's, or
     * a later tick's) sets it again for the next frame. */
    uint8_t n = n_channels;
    uint8_t flags = EMG_TYPE_DATA | n | (overrun ? EMG_FLAG_OVERRUN : 0);
    overrun = 0;
    stage_n = n;
    stage_pos = 5;
    stage[0] = EMG_SYNC0;
    stage[1] = EMG_SYNC1;
    stage[2] = (uint8_t)s;
    stage[3] = (uint8_t)(s >> 8);
    stage[4] = flags;
    uint16_t crc = 0xFFFF; /* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF */
    crc = _crc_xmodem_update(crc, stage[2]);
    crc = _crc_xmodem_update(crc, stage[3]);
    stage_crc = _crc_xmodem_update(crc, flags);
}

ISR(ADC_vect)
{
    uint8_t lo = ADCL; /* ADCL first: it locks ADCH until read */
    uint8_t hi = ADCH;
    uint8_t pos = stage_pos;
    uint8_t next = (uint8_t)((pos - 5) / 2 + 1); /* channel after this one */
    if (next < stage_n) {
        ADMUX = ADMUX_REF | next;
        ADCSRA = adcsra_run | _BV(ADSC);
    } else {
        adc_busy = 0;
    }
    stage[pos] = lo;
    stage[pos + 1] = hi;
    stage_pos = pos + 2;
    uint16_t crc = _crc_xmodem_update(stage_crc, lo);
    crc = _crc_xmodem_update(crc, hi);
    stage_crc = crc;
    if (next < stage_n)
        return;

    stage[pos + 2] = (uint8_t)crc;
    stage[pos + 3] = (uint8_t)(crc >> 8);
    uint8_t len = (uint8_t)(pos + 4);
    if (tx_free() >= len)
        tx_put(stage, len);
    else
        overrun = 1; /* drop this tick's frame; seq already moved on */
}

/* ---- Configuration (only while stopped). ---- */

/* Prescaler 1, CTC on OCR1A: period = (OCR1A + 1) CPU cycles. Integer rates
 * that divide 16 MHz are exact; others are rounded (the info frame reports the
 * rate actually produced). */
static uint16_t timer_top(uint16_t fs)
{
    return (uint16_t)((F_CPU + fs / 2) / fs - 1);
}

static void timer_start(uint16_t fs)
{
    uint16_t top = timer_top(fs);
    uint8_t sreg = SREG;
    cli();
    TCCR1B = 0;
    TCCR1A = 0;
    TCNT1 = 0;
    OCR1A = top;
    TIFR1 = _BV(OCF1A);
    TIMSK1 = _BV(OCIE1A);
    TCCR1B = _BV(WGM12) | _BV(CS10);
    SREG = sreg;
}

/* The ADC clock for the current rate and channel count (see ADPS_64 above). */
static void adc_choose_clock(void)
{
    uint32_t period = (uint32_t)timer_top(fs_hz) + 1;
    uint32_t need = (uint32_t)n_channels * 14u * 128u + ADC_CHAIN_MARGIN_CYCLES;
    adcsra_run = ADCSRA_BASE | (need <= period ? ADPS_128 : ADPS_64);
}

static void adc_setup(void)
{
    /* One throw-away conversion of GND with interrupts off: the first
     * conversion after enabling the ADC takes 25 ADC clocks instead of 13,
     * which would make the first tick's chain overrun at 2 kHz. */
    ADCSRA = 0;
    ADMUX = ADMUX_REF | ADMUX_GND;
    ADCSRA = _BV(ADEN) | ADPS_128 | _BV(ADSC);
    while (ADCSRA & _BV(ADSC)) {
    }
    ADCSRA = adcsra_run | _BV(ADIF); /* clear the stale flag, enable the interrupt */
}

static void uart_setup(void)
{
    /* U2X, framing and UBRRL in this order: some simulators latch the bit
     * time when UBRRL is written. */
    UCSR0A = _BV(U2X0);
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00); /* 8N1 */
    UBRR0H = (uint8_t)(EMG_UBRR >> 8);
    UBRR0L = (uint8_t)EMG_UBRR;
    UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
}

/* ---- Info frame. ---- */

static char *append(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

static char *append_u32(char *p, uint32_t v)
{
    char tmp[11];
    ultoa(v, tmp, 10);
    return append(p, tmp);
}

/* The seq of the next data frame that will enter the TX ring (call with
 * interrupts disabled): the frame of a chain still converting, else the next
 * tick's. Info frames carry it. */
static uint16_t next_data_seq(void)
{
    return adc_busy ? frame_seq : seq;
}

/* Queue one info frame; `start` marks the one that begins a stream (seq
 * restarts at 0), so the host re-anchors its frame count instead of counting
 * the jump as lost frames. The frame is built with interrupts on and queued
 * only if next_data_seq() did not change meanwhile (else rebuilt), so
 * interrupts are off just for the copy (~50 us for 92 bytes, which may delay
 * one conversion by as much). Waits for room in the TX ring. */
static void send_info(uint8_t start)
{
    uint8_t f[8 + EMG_INFO_MAX_PAYLOAD];
    char *p0 = (char *)&f[6];
    char *p = p0;
    p = append(p, "fw=" EMG_FW_VERSION " proto=");
    p = append_u32(p, EMG_PROTO_VERSION);
    p = append(p, " fs=");
    /* The rate actually produced by the timer: 16 MHz / (OCR1A + 1). */
    uint32_t period = (uint32_t)timer_top(fs_hz) + 1;
    uint32_t whole = F_CPU / period;
    uint32_t rem = F_CPU % period;
    p = append_u32(p, whole);
    if (rem) {
        uint32_t milli = (rem * 1000UL) / period; /* truncated to 3 decimals */
        *p++ = '.';
        *p++ = (char)('0' + milli / 100);
        *p++ = (char)('0' + (milli / 10) % 10);
        *p++ = (char)('0' + milli % 10);
    }
    p = append(p, " ch=");
    p = append_u32(p, n_channels);
    p = append(p, " bits=10 vref=");
    p = append_u32(p, EMG_VREF_MV);
    p = append(p, " baud=");
    p = append_u32(p, EMG_BAUD);
    p = append(p, " adclk=");
    p = append_u32(p, (adcsra_run & ADPS_128) == ADPS_128 ? F_CPU / 128 : F_CPU / 64);
    uint8_t plen = (uint8_t)(p - p0);

    uint8_t len = (uint8_t)(8 + plen);
    f[0] = EMG_SYNC0;
    f[1] = EMG_SYNC1;
    f[4] = EMG_TYPE_INFO | n_channels | (start ? EMG_FLAG_START : 0);
    f[5] = plen;
    for (;;) {
        cli();
        uint16_t s = next_data_seq();
        sei();
        f[2] = (uint8_t)s;
        f[3] = (uint8_t)(s >> 8);
        uint16_t crc = 0xFFFF;
        for (uint8_t i = 2; i < len - 2; i++)
            crc = _crc_xmodem_update(crc, f[i]);
        f[len - 2] = (uint8_t)crc;
        f[len - 1] = (uint8_t)(crc >> 8);
        cli();
        if (next_data_seq() == s && tx_free() >= len) {
            tx_put(f, len);
            sei();
            return;
        }
        sei();
    }
}

/* ---- Commands. ---- */

static void wait_chain_done(void)
{
    while (adc_busy) {
    }
}

static void start_streaming(void)
{
    if (streaming)
        return;
    wait_chain_done();
    adc_choose_clock();
    cli();
    seq = 0;
    overrun = 0;
    sei();
    send_info(1); /* announces the configuration and the seq restart before the first data frame */
    DIDR0 = (uint8_t)((1u << n_channels) - 1); /* digital input buffers off on the inputs in use */
    cli();
    timer_start(fs_hz); /* restart the period: the first tick is one period away */
    streaming = 1;
    sei();
}

static void stop_streaming(void)
{
    streaming = 0; /* a chain already running completes and sends its frame */
}

enum { P_IDLE, P_CH, P_FS_LO, P_FS_HI };
static uint8_t p_state = P_IDLE;
static uint8_t p_lo;
static uint16_t p_t0;

static void handle_byte(uint8_t b)
{
    switch (p_state) {
    case P_CH:
        p_state = P_IDLE;
        if (!streaming && b >= 1 && b <= EMG_MAX_CHANNELS) {
            wait_chain_done();
            n_channels = b;
            adc_choose_clock();
        }
        send_info(0); /* the reply states what is now in effect */
        return;
    case P_FS_LO:
        p_lo = b;
        p_state = P_FS_HI;
        return;
    case P_FS_HI: {
        p_state = P_IDLE;
        uint16_t fs = (uint16_t)(p_lo | ((uint16_t)b << 8));
        if (!streaming && fs >= EMG_MIN_FS && fs <= EMG_MAX_FS) {
            wait_chain_done();
            fs_hz = fs;
            adc_choose_clock();
            timer_start(fs_hz);
        }
        send_info(0);
        return;
    }
    default:
        break;
    }
    switch (b) {
    case EMG_CMD_START:
        start_streaming();
        break;
    case EMG_CMD_STOP:
        stop_streaming();
        break;
    case EMG_CMD_INFO:
        send_info(0);
        break;
    case EMG_CMD_CHANNELS:
        p_state = P_CH;
        p_t0 = (uint16_t)millis();
        break;
    case EMG_CMD_RATE:
        p_state = P_FS_LO;
        p_t0 = (uint16_t)millis();
        break;
    default:
        break; /* unknown bytes are ignored */
    }
}

void setup()
{
    cli();
    uart_setup();
    adc_setup();
    set_sleep_mode(SLEEP_MODE_IDLE); /* timers, ADC and USART keep running */
    sei();
    start_streaming(); /* boots streaming at the compiled defaults */
}

void loop()
{
    uint8_t t = rx_tail;
    if (t != rx_head) {
        uint8_t b = rx_ring[t];
        rx_tail = (uint8_t)((t + 1) % RX_SIZE);
        handle_byte(b);
        return;
    }
    if (p_state != P_IDLE && (uint16_t)((uint16_t)millis() - p_t0) > ARG_TIMEOUT_MS)
        p_state = P_IDLE; /* a command whose argument never came */

    /* Sleep until the next interrupt; the check and the sleep are atomic
     * (SEI delays interrupts by one instruction, so SLEEP runs first). */
    cli();
    if (rx_tail == rx_head) {
        sleep_enable();
        sei();
        sleep_cpu();
        sleep_disable();
    }
    sei();
}
