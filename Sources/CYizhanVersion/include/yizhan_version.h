#ifndef YIZHAN_VERSION_H
#define YIZHAN_VERSION_H

/// The software version, set by Package.swift (YIZHAN_VERSION) at build time.
const char *yizhan_version(void);

#endif
