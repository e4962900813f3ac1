#pragma once
// What Swift's Glibc module hides or cannot import: openpty, variadic ioctl requests
// built from function-like macros (EVIOCGRAB, EVIOCGBIT), termios baud constants.
#include <stddef.h>

/// Opens a pseudo-terminal pair with raw termios on the slave; writes the slave's path.
int yz_openpty(int *master, int *slave, char *name, size_t name_len);
/// Raw mode, 8N1, no flow control, the given baud. Returns 0, -1 (errno) or -2 (baud not supported).
int yz_tty_configure_raw(int fd, unsigned baud);
/// TIOCEXCL: further open() of this tty fails with EBUSY (except for root).
int yz_tty_set_exclusive(int fd);
/// EVIOCGRAB: this process alone receives the device's events.
int yz_evdev_grab(int fd, int grab);
/// EVIOCGNAME into buf. Returns the length or -1.
int yz_evdev_name(int fd, char *buf, size_t len);
/// 1 when the device reports the digit keys KEY_1..KEY_0, 0 when not, -1 when not an evdev device.
int yz_evdev_has_digit_keys(int fd);
/// sizeof(struct input_event) on this platform (24 on 64-bit, 16 on 32-bit with 32-bit time_t).
size_t yz_input_event_size(void);
/// An eventfd (non-blocking, close-on-exec) to wake a thread blocked in poll(); -1 on error.
int yz_eventfd(void);
/// Makes an eventfd readable.
int yz_eventfd_signal(int fd);
/// Creates a uinput keyboard; returns its fd or -1 (errno).
int yz_uinput_create_keyboard(const char *name, unsigned short vendor, unsigned short product);
/// Writes one input_event and a SYN_REPORT.
int yz_uinput_key(int fd, unsigned short code, int value);
void yz_uinput_destroy(int fd);
