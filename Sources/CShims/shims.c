#include "shims.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <linux/uinput.h>
#include <pty.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>

int yz_openpty(int *master, int *slave, char *name, size_t name_len) {
    struct termios raw;
    memset(&raw, 0, sizeof raw);
    cfmakeraw(&raw);
    raw.c_cflag |= CLOCAL | CREAD;
    cfsetspeed(&raw, B115200);
    char path[128];
    if (openpty(master, slave, path, &raw, NULL) != 0) return -1;
    if (name && name_len > 0) {
        strncpy(name, path, name_len - 1);
        name[name_len - 1] = 0;
    }
    fcntl(*master, F_SETFD, FD_CLOEXEC);
    fcntl(*slave, F_SETFD, FD_CLOEXEC);
    return 0;
}

static speed_t speed_for(unsigned baud) {
    switch (baud) {
    case 1200: return B1200;
    case 2400: return B2400;
    case 4800: return B4800;
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
    case 460800: return B460800;
    case 921600: return B921600;
    default: return 0;
    }
}

int yz_tty_configure_raw(int fd, unsigned baud) {
    speed_t speed = speed_for(baud);
    if (speed == 0) return -2;
    struct termios t;
    if (tcgetattr(fd, &t) != 0) return -1;
    cfmakeraw(&t);
    t.c_cflag &= ~(CSTOPB | PARENB | CRTSCTS | CSIZE);
    t.c_cflag |= CS8 | CLOCAL | CREAD;
    t.c_iflag &= ~(IXON | IXOFF | IXANY);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (cfsetispeed(&t, speed) != 0 || cfsetospeed(&t, speed) != 0) return -1;
    if (tcsetattr(fd, TCSANOW, &t) != 0) return -1;
    tcflush(fd, TCIOFLUSH);
    return 0;
}

int yz_tty_set_exclusive(int fd) { return ioctl(fd, TIOCEXCL); }

int yz_evdev_grab(int fd, int grab) { return ioctl(fd, EVIOCGRAB, grab); }

int yz_evdev_name(int fd, char *buf, size_t len) { return ioctl(fd, EVIOCGNAME(len), buf); }

int yz_evdev_has_digit_keys(int fd) {
    unsigned char bits[KEY_MAX / 8 + 1];
    memset(bits, 0, sizeof bits);
    if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof bits), bits) < 0) return -1;
    for (int code = KEY_1; code <= KEY_0; code++) {
        if (!(bits[code / 8] & (1 << (code % 8)))) return 0;
    }
    return 1;
}

int yz_uinput_create_keyboard(const char *name, unsigned short vendor, unsigned short product) {
    int fd = open("/dev/uinput", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -1;
    ioctl(fd, UI_SET_EVBIT, EV_KEY);
    ioctl(fd, UI_SET_EVBIT, EV_SYN);
    for (int code = KEY_ESC; code <= KEY_KPDOT; code++) ioctl(fd, UI_SET_KEYBIT, code);
    ioctl(fd, UI_SET_KEYBIT, KEY_KPENTER);
    struct uinput_setup setup;
    memset(&setup, 0, sizeof setup);
    setup.id.bustype = BUS_USB;
    setup.id.vendor = vendor;
    setup.id.product = product;
    strncpy(setup.name, name, UINPUT_MAX_NAME_SIZE - 1);
    if (ioctl(fd, UI_DEV_SETUP, &setup) < 0 || ioctl(fd, UI_DEV_CREATE) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int emit(int fd, unsigned short type, unsigned short code, int value) {
    struct input_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.code = code;
    ev.value = value;
    return write(fd, &ev, sizeof ev) == sizeof ev ? 0 : -1;
}

int yz_uinput_key(int fd, unsigned short code, int value) {
    if (emit(fd, EV_KEY, code, value) != 0) return -1;
    return emit(fd, EV_SYN, SYN_REPORT, 0);
}

void yz_uinput_destroy(int fd) {
    ioctl(fd, UI_DEV_DESTROY);
    close(fd);
}

size_t yz_input_event_size(void) { return sizeof(struct input_event); }

int yz_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

int yz_eventfd_signal(int fd) { return eventfd_write(fd, 1); }
