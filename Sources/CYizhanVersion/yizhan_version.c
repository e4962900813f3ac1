#include "yizhan_version.h"

// Package.swift always defines YIZHAN_VERSION; the fallback only marks a build made without it.
#ifndef YIZHAN_VERSION
#define YIZHAN_VERSION "0.0.0-unknown"
#endif

const char *yizhan_version(void) { return YIZHAN_VERSION; }
