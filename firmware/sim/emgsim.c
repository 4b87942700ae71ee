/*
 * emgsim - run the emgfeedback firmware on a simulated ATmega328P (libsimavr)
 * with known analog inputs, and bridge its UART to a pseudo-terminal.
 *
 *   emgsim [options] FIRMWARE.elf|FIRMWARE.hex
 *
 * stdout carries exactly one line, `PTY /dev/pts/N` (or `PTY none` with
 * --no-pty), then is closed; everything else (simavr's chatter, the final
 * summary) goes to stderr. Open the pty like a serial port (any baud rate).
 *
 * Analog input: every ADC conversion of a single-ended channel c (A0..A7) is
 * announced by simavr (ADC_IRQ_OUT_TRIGGER) at its start; the harness then sets
 * that channel's input to the value for (k, c), where k counts the conversions
 * of channel c so far (0, 1, 2, ...). Values are millivolts (rounded to whole
 * mV, clamped to 0..vref); the ideal ADC reads floor(mV * 1024 / vref) (simavr
 * computes floor(mV * 1023 / vref), within 1 LSB of it).
 *   --wave FILE  text, one row per conversion index k, one column per channel
 *                (whitespace or commas; `#` starts a comment line); channel c
 *                uses column c mod ncols; rows repeat after the last one.
 *   --gen sine   mV = round(2500 + 2000 * sin(2 pi * 10 (c+1) k / 1000)),
 *                i.e. 10, 20, 30, 40 Hz on channels 0-3 at fs = 1 kHz.
 *   --gen ramp   mV = (37 k + 1000 c) mod 5000 (exact integers).
 *   --gen const:MV  every conversion reads MV millivolts.
 *
 * UART: simavr paces the UART at its configured baud rate in simulated time.
 * Bytes from the device are queued and written to the pty; when the pty is not
 * being read the simulation pauses (simulated time stands still) rather than
 * dropping bytes. Bytes written to the pty by the host are fed to the device's
 * receiver while simavr signals room (UART_IRQ_OUT_XON / _XOFF).
 *
 * Options: --seconds S (simulated seconds, then drain and exit 0; default run
 * until SIGINT/SIGTERM), --backlog BYTES (pause simulated time while more than
 * BYTES of device output wait unread, in the harness or the pty; default
 * 65536; a small value keeps the device close to the reader, so commands take
 * effect soon after they are sent), --out FILE (also write every device byte there),
 * --no-pty, --realtime (pace simulated time to the wall clock), --vref MV
 * (AVCC = AREF = VCC, default 5000), --drain-timeout S (wall seconds to wait at
 * the end for the reader to take the last bytes, default 10), --verbose.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "avr_adc.h"
#include "avr_uart.h"
#include "sim_avr.h"
#include "sim_elf.h"
#include "sim_hex.h"
#include "sim_irq.h"
#include "sim_time.h"

#define MCU "atmega328p"
#define FREQ 16000000u
#define N_ADC 8
#define CHUNK_CYCLES (FREQ / 1000) /* service I/O every simulated millisecond */

enum { GEN_SINE, GEN_RAMP, GEN_CONST, GEN_WAVE };

typedef struct {
    avr_t *avr;

    /* analog input */
    int gen;
    double const_mv;
    double *wave; /* rows x cols, mV */
    size_t rows, cols;
    uint64_t conv[N_ADC]; /* conversions started per channel */
    uint64_t clipped;
    uint32_t vref_mv;
    avr_irq_t *adc_irq;

    /* UART */
    avr_irq_t *uart_irq;
    int xon;      /* the device's receiver has room */
    uint8_t *out; /* device -> host backlog for the pty */
    size_t out_len, out_off, out_cap;
    uint8_t in[4096]; /* host -> device backlog */
    size_t in_len, in_off;
    uint64_t tx_total, rx_total;

    int master, slave; /* pty, or -1 */
    FILE *outf;
    int verbose;
} sim_t;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *msg)
{
    fprintf(stderr, "emgsim: %s\n", msg);
    exit(1);
}

/* A realloc that never returns NULL: running out of memory ends the harness with a message. */
static void *xrealloc(void *ptr, size_t size)
{
    void *out = realloc(ptr, size);
    if (!out && size)
        die("out of memory");
    return out;
}

/* Strict option parsing: the whole text must be a finite number within [lo, hi]. */
static double parse_double(const char *opt, const char *text, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != 0 || errno == ERANGE || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "emgsim: %s %s is not a number from %g to %g\n", opt, text, lo, hi);
        exit(2);
    }
    return v;
}

static long parse_long(const char *opt, const char *text, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end != 0 || errno == ERANGE || v < lo || v > hi) {
        fprintf(stderr, "emgsim: %s %s is not a whole number from %ld to %ld\n", opt, text, lo, hi);
        exit(2);
    }
    return v;
}

/* ---------------------------------------------------------------- input */

static double input_mv(const sim_t *s, uint64_t k, unsigned c)
{
    switch (s->gen) {
    case GEN_SINE:
        return 2500.0 + 2000.0 * sin(2.0 * M_PI * 10.0 * (c + 1) * (double)k / 1000.0);
    case GEN_RAMP:
        return (double)((37u * k + 1000u * c) % 5000u);
    case GEN_CONST:
        return s->const_mv;
    default:
        return s->wave[(k % s->rows) * s->cols + (c % s->cols)];
    }
}

/* simavr raises this when a conversion starts: set the input it will read. */
static void adc_trigger_hook(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    sim_t *s = param;
    union {
        avr_adc_mux_t mux;
        uint32_t v;
    } e = {.v = value};
    if (e.mux.kind != ADC_MUX_SINGLE || e.mux.src >= N_ADC)
        return; /* GND, bandgap, temperature: not an input */
    unsigned c = e.mux.src;
    double mv = round(input_mv(s, s->conv[c], c));
    s->conv[c]++;
    if (mv < 0 || mv > s->vref_mv) {
        s->clipped++;
        mv = mv < 0 ? 0 : s->vref_mv;
    }
    avr_raise_irq(s->adc_irq + ADC_IRQ_ADC0 + c, (uint32_t)mv);
}

static void load_wave(sim_t *s, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    size_t cap = 1024, n = 0;
    s->wave = xrealloc(NULL, cap * sizeof(double));
    s->cols = 0;
    s->rows = 0;
    char *line = NULL;
    size_t linecap = 0;
    while (getline(&line, &linecap, f) >= 0) {
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\r' || *p == 0)
            continue;
        size_t cols = 0;
        for (;;) {
            while (*p == ' ' || *p == '\t' || *p == ',')
                p++;
            if (*p == '\n' || *p == '\r' || *p == 0)
                break;
            char *end;
            double v = strtod(p, &end);
            if (end == p) {
                fprintf(stderr, "emgsim: %s: row %zu: not a number: %.20s\n", path, s->rows + 1, p);
                exit(1);
            }
            if (n == cap) {
                cap *= 2;
                s->wave = xrealloc(s->wave, cap * sizeof(double));
            }
            s->wave[n++] = v;
            cols++;
            p = end;
        }
        if (s->cols == 0)
            s->cols = cols;
        else if (cols != s->cols) {
            fprintf(stderr, "emgsim: %s: row %zu has %zu columns, expected %zu\n", path, s->rows + 1, cols,
                    s->cols);
            exit(1);
        }
        s->rows++;
    }
    free(line);
    fclose(f);
    if (s->rows == 0)
        die("--wave file has no rows");
}

/* ----------------------------------------------------------------- UART */

static void uart_out_hook(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    sim_t *s = param;
    uint8_t b = (uint8_t)value;
    s->tx_total++;
    if (s->outf)
        fputc(b, s->outf);
    if (s->master < 0)
        return;
    if (s->out_len == s->out_cap) {
        if (s->out_off > 0) { /* compact before growing */
            memmove(s->out, s->out + s->out_off, s->out_len - s->out_off);
            s->out_len -= s->out_off;
            s->out_off = 0;
        }
        if (s->out_len == s->out_cap) {
            s->out_cap = s->out_cap ? 2 * s->out_cap : 65536;
            s->out = xrealloc(s->out, s->out_cap);
        }
    }
    s->out[s->out_len++] = b;
}

static void uart_xon_hook(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    (void)value;
    ((sim_t *)param)->xon = 1;
}

static void uart_xoff_hook(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    if (value)
        ((sim_t *)param)->xon = 0;
}

/* Give the device's receiver host bytes while it signals room. XON is first
 * raised when the firmware enables the receiver, so bytes sent before that are
 * held here, not lost. */
static void feed_input(sim_t *s)
{
    while (s->xon && s->in_off < s->in_len) {
        avr_raise_irq(s->uart_irq + UART_IRQ_INPUT, s->in[s->in_off++]);
        s->rx_total++;
    }
    if (s->in_off == s->in_len)
        s->in_off = s->in_len = 0;
}

static size_t out_pending(const sim_t *s)
{
    return s->out_len - s->out_off;
}

/* Move bytes between the pty and the backlogs; wait up to timeout_ms for the
 * pty to become readable or writable (0 = just poll). */
static void service_pty(sim_t *s, int timeout_ms)
{
    if (s->master < 0) {
        if (timeout_ms > 0)
            poll(NULL, 0, timeout_ms); /* --no-pty --realtime: just wait */
        return;
    }
    struct pollfd p = {.fd = s->master, .events = 0};
    if (s->in_len < sizeof(s->in))
        p.events |= POLLIN;
    if (out_pending(s))
        p.events |= POLLOUT;
    if (poll(&p, 1, timeout_ms) <= 0)
        return;
    if (p.revents & POLLIN) {
        ssize_t r = read(s->master, s->in + s->in_len, sizeof(s->in) - s->in_len);
        if (r > 0)
            s->in_len += (size_t)r;
    }
    if ((p.revents & POLLOUT) && out_pending(s)) {
        ssize_t w = write(s->master, s->out + s->out_off, out_pending(s));
        if (w > 0) {
            s->out_off += (size_t)w;
            if (s->out_off == s->out_len)
                s->out_off = s->out_len = 0;
        }
    }
}

/* Bytes written to the pty that its reader has not read yet. */
static int slave_unread(const sim_t *s)
{
    int n = 0;
    if (s->slave < 0 || ioctl(s->slave, FIONREAD, &n) < 0)
        return 0;
    return n;
}

static void open_pty(sim_t *s, char *name, size_t namelen)
{
    char buf[256];
    if (openpty(&s->master, &s->slave, buf, NULL, NULL) < 0) {
        perror("openpty");
        exit(1);
    }
    /* Raw: no echo, no CR/LF mapping, no XON/XOFF flow control on the data. */
    struct termios tio;
    tcgetattr(s->slave, &tio);
    cfmakeraw(&tio);
    tcsetattr(s->slave, TCSANOW, &tio);
    /* The harness keeps the slave open, so a reader that closes and reopens
     * the port never causes a hangup; it is never read from here. */
    fcntl(s->master, F_SETFL, fcntl(s->master, F_GETFL) | O_NONBLOCK);
    snprintf(name, namelen, "%s", buf);
}

/* ------------------------------------------------------------------ sim */

static void sleep_hook(avr_t *avr, avr_cycle_count_t how_long)
{
    /* simavr's default sleeps the wall clock here; pacing is done in main(). */
    (void)avr;
    (void)how_long;
}

static void quiet_logger(avr_t *avr, const int level, const char *fmt, va_list ap)
{
    int max = avr ? avr->log : LOG_ERROR;
    if (level <= max)
        vfprintf(stderr, fmt, ap);
}

static void load_firmware(const char *path, elf_firmware_t *f)
{
    memset(f, 0, sizeof(*f));
    size_t n = strlen(path);
    if (n > 4 && strcmp(path + n - 4, ".hex") == 0) {
        ihex_chunk_p chunks = NULL;
        int cnt = read_ihex_chunks(path, &chunks);
        if (cnt <= 0)
            die("cannot read the hex file");
        for (int i = 0; i < cnt; i++) {
            if (chunks[i].baseaddr < 0x800000) { /* flash; 0x810000 = eeprom */
                f->flash = chunks[i].data;
                f->flashbase = chunks[i].baseaddr;
                f->flashsize = chunks[i].size;
            }
        }
        if (!f->flash)
            die("no flash contents in the hex file");
    } else if (elf_read_firmware(path, f) != 0) {
        die("cannot read the ELF firmware");
    }
    snprintf(f->mmcu, sizeof(f->mmcu), "%s", MCU);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: emgsim [--wave FILE | --gen sine|ramp|const:MV] [--seconds S] [--out FILE]\n"
            "              [--no-pty] [--realtime] [--backlog BYTES] [--vref MV] [--drain-timeout S]\n"
            "              [--verbose]\n"
            "              FIRMWARE.elf|FIRMWARE.hex\n");
    exit(1);
}

int main(int argc, char **argv)
{
    sim_t s;
    memset(&s, 0, sizeof(s));
    s.master = s.slave = -1;
    s.gen = GEN_SINE;
    s.vref_mv = 5000;
    double seconds = 0, drain_timeout = 10;
    long backlog = 65536;
    int realtime = 0, use_pty = 1;
    const char *wave = NULL, *outpath = NULL;

    static const struct option opts[] = {
        {"wave", required_argument, 0, 'w'},     {"gen", required_argument, 0, 'g'},
        {"seconds", required_argument, 0, 's'},  {"out", required_argument, 0, 'o'},
        {"no-pty", no_argument, 0, 'n'},         {"realtime", no_argument, 0, 'r'},
        {"vref", required_argument, 0, 'v'},     {"drain-timeout", required_argument, 0, 'd'},
        {"verbose", no_argument, 0, 'V'},        {"help", no_argument, 0, 'h'},
        {"backlog", required_argument, 0, 'b'},
        {0, 0, 0, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'w':
            wave = optarg;
            s.gen = GEN_WAVE;
            break;
        case 'g':
            if (!strcmp(optarg, "sine"))
                s.gen = GEN_SINE;
            else if (!strcmp(optarg, "ramp"))
                s.gen = GEN_RAMP;
            else if (!strncmp(optarg, "const:", 6)) {
                s.gen = GEN_CONST;
                s.const_mv = parse_double("--gen const:", optarg + 6, 0, 1e5);
            } else
                usage();
            break;
        case 's':
            seconds = parse_double("--seconds", optarg, 0, 1e6);
            break;
        case 'o':
            outpath = optarg;
            break;
        case 'n':
            use_pty = 0;
            break;
        case 'r':
            realtime = 1;
            break;
        case 'v':
            s.vref_mv = (uint32_t)parse_long("--vref", optarg, 1000, 6000);
            break;
        case 'd':
            drain_timeout = parse_double("--drain-timeout", optarg, 0, 3600);
            break;
        case 'V':
            s.verbose = 1;
            break;
        case 'b':
            backlog = parse_long("--backlog", optarg, 0, 1L << 30);
            break;
        default:
            usage();
        }
    }
    if (optind != argc - 1 || s.vref_mv == 0)
        usage();
    if (!use_pty && !outpath)
        die("--no-pty needs --out FILE, or the device's bytes go nowhere");

    /* Keep stdout for the PTY line only: libsimavr prints to stdout. */
    int real_stdout = dup(1);
    dup2(2, 1);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    avr_global_logger_set(quiet_logger);

    if (wave)
        load_wave(&s, wave);
    if (outpath) {
        s.outf = fopen(outpath, "wb");
        if (!s.outf) {
            perror(outpath);
            return 1;
        }
    }

    elf_firmware_t fw;
    load_firmware(argv[optind], &fw);
    fw.frequency = FREQ;
    fw.vcc = fw.avcc = fw.aref = s.vref_mv;
    avr_t *avr = avr_make_mcu_by_name(MCU);
    if (!avr)
        die("simavr does not know " MCU);
    avr_init(avr);
    avr->log = s.verbose ? LOG_TRACE : LOG_ERROR;
    avr_load_firmware(avr, &fw);
    avr->frequency = FREQ;
    avr->vcc = avr->avcc = avr->aref = s.vref_mv; /* else the ADC reads 0 */
    avr->sleep = sleep_hook;
    s.avr = avr;

    /* UART0: binary data, so no stdio echo and no usleep on polling. */
    uint32_t flags = 0;
    avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
    flags &= ~(uint32_t)(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
    s.uart_irq = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), 0);
    s.adc_irq = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, 0);
    if (!s.uart_irq || !s.adc_irq)
        die("simavr has no UART0 or ADC for " MCU);
    avr_irq_register_notify(s.uart_irq + UART_IRQ_OUTPUT, uart_out_hook, &s);
    avr_irq_register_notify(s.uart_irq + UART_IRQ_OUT_XON, uart_xon_hook, &s);
    avr_irq_register_notify(s.uart_irq + UART_IRQ_OUT_XOFF, uart_xoff_hook, &s);
    avr_irq_register_notify(s.adc_irq + ADC_IRQ_OUT_TRIGGER, adc_trigger_hook, &s);

    char ptyname[256] = "none";
    if (use_pty)
        open_pty(&s, ptyname, sizeof(ptyname));
    FILE *so = fdopen(real_stdout, "w");
    fprintf(so, "PTY %s\n", ptyname);
    fclose(so); /* the reader of stdout sees EOF after this line */

    const uint64_t end_cycle = seconds > 0 ? (uint64_t)llround(seconds * FREQ) : UINT64_MAX;
    const double t0 = now_s();
    double rt_base = t0; /* wall time at simulated time 0, for --realtime */
    int rc = 0;

    while (!stop_requested && avr->cycle < end_cycle) {
        avr_cycle_count_t limit = avr->cycle + CHUNK_CYCLES;
        if (limit > end_cycle)
            limit = end_cycle;
        while (avr->cycle < limit) {
            int st = avr_run(avr);
            if (st == cpu_Done || st == cpu_Crashed) {
                fprintf(stderr, "emgsim: firmware %s at cycle %llu\n", st == cpu_Done ? "stopped" : "crashed",
                        (unsigned long long)avr->cycle);
                rc = 2;
                goto done;
            }
        }
        service_pty(&s, 0);
        /* Back-pressure: the reader is behind, so stop simulated time. */
        while (!stop_requested && s.master >= 0 && (long)out_pending(&s) + slave_unread(&s) > backlog)
            service_pty(&s, 2);
        feed_input(&s);
        if (realtime) {
            double sim_t = (double)avr->cycle / FREQ;
            double ahead = sim_t - (now_s() - rt_base);
            if (ahead < -0.1)
                rt_base = now_s() - sim_t; /* fell behind (e.g. paused): do not race to catch up */
            while (!stop_requested && ahead > 0.001) {
                service_pty(&s, (int)(ahead * 1000));
                feed_input(&s);
                ahead = sim_t - (now_s() - rt_base);
            }
        }
    }

done:;
    const double sim_end = (double)avr->cycle / FREQ;
    const double wall_run = now_s() - t0;
    /* Drain: hand every byte to the pty and wait until the reader took them.
     * FIONREAD does not see bytes still in the kernel's tty flip buffer, so
     * "nothing unread" must hold for a while before the pty is closed (closing
     * it hangs up the reader and discards whatever it has not read). */
    double t_drain = now_s(), t_empty = -1;
    if (stop_requested && drain_timeout > 1)
        drain_timeout = 1; /* interrupted: do not keep the user waiting */
    while (s.master >= 0 && now_s() - t_drain < drain_timeout) {
        service_pty(&s, 5);
        if (out_pending(&s) || slave_unread(&s) > 0)
            t_empty = -1;
        else if (t_empty < 0)
            t_empty = now_s();
        else if (now_s() - t_empty > 0.2)
            break;
    }
    if (s.master >= 0 && (out_pending(&s) || slave_unread(&s) > 0))
        fprintf(stderr, "emgsim: warning: %zu bytes never read from the pty\n", out_pending(&s) + slave_unread(&s));
    if (s.outf)
        fclose(s.outf);
    fprintf(stderr,
            "emgsim: simulated %.3f s in %.3f s wall (%.4f s wall per simulated s), %llu bytes out, %llu in, "
            "%llu conversions on A0, %llu clipped\n",
            sim_end, wall_run, sim_end > 0 ? wall_run / sim_end : 0.0, (unsigned long long)s.tx_total,
            (unsigned long long)s.rx_total, (unsigned long long)s.conv[0], (unsigned long long)s.clipped);
    if (s.master >= 0) {
        close(s.master);
        close(s.slave);
    }
    free(s.out);
    free(s.wave);
    return rc;
}
