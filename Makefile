# The two commands a new user runs (as root, on Debian):
#   make run    build the module and run the chat demo (examples/chat.conf:
#               negotiate, event gateway and REST, with a local stand-in of
#               the service and a chat app) on 127.0.0.1:8080 (RUN_PORT=...)
#   make test   build the module, run the C unit tests and the whole suite
# Both install what is missing first (tools/deps.sh).

BUILD      = $(CURDIR)/build
MODULE     = $(BUILD)/plain/ngx_http_webpubsub_module.so
ASAN_MOD   = $(BUILD)/asan/ngx_http_webpubsub_module.so
CFLAGS_T   = -std=c99 -g -O1 -Wall -Wextra -Werror -Ingx_webpubsub_module
CORE       = ngx_webpubsub_module/ngx_webpubsub_core.c \
             ngx_webpubsub_module/ngx_webpubsub_rest.c \
             ngx_webpubsub_module/ngx_webpubsub_reply.c \
             ngx_webpubsub_module/ngx_webpubsub_entra.c
CORE_H     = ngx_webpubsub_module/ngx_webpubsub_core.h \
             ngx_webpubsub_module/ngx_webpubsub_rest.h \
             ngx_webpubsub_module/ngx_webpubsub_reply.h \
             ngx_webpubsub_module/ngx_webpubsub_entra.h
SAN        = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
             -fno-omit-frame-pointer
PROVE      = prove -j2 -r t/
RUN_PORT  ?= 8080
AUTH      ?= key

.PHONY: all deps build build-asan unit unit-asan test test-asan test-valgrind run bench soak fuzz fuzz-build test-asan-full clean \
	install uninstall deb deb-check version-check

all: build

deps:
	tools/deps.sh test

build:
	tools/deps.sh build
	tools/build.sh plain

build-asan:
	tools/deps.sh build
	tools/build.sh asan

$(BUILD)/core_test: t/unit/core_test.c $(CORE) $(CORE_H) t/unit/check.h
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_T) -o $@ t/unit/core_test.c $(CORE) -lcrypto -ljansson

$(BUILD)/core_test_asan: t/unit/core_test.c $(CORE) $(CORE_H) t/unit/check.h
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_T) $(SAN) -o $@ t/unit/core_test.c $(CORE) \
		-lcrypto -ljansson

# the parsing of what remote services answer (ngx_webpubsub_reply.c)
$(BUILD)/reply_test: t/unit/reply_test.c $(CORE) $(CORE_H) t/unit/check.h
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_T) -o $@ t/unit/reply_test.c $(CORE) -lcrypto -ljansson

$(BUILD)/reply_test_asan: t/unit/reply_test.c $(CORE) $(CORE_H) t/unit/check.h
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_T) $(SAN) -o $@ t/unit/reply_test.c $(CORE) \
		-lcrypto -ljansson

# Entra ID's Bearer tokens and client assertions (ngx_webpubsub_entra.c)
ENTRA_T    = t/unit/entra_test.c t/unit/entra_vectors.h t/unit/check.h

$(BUILD)/entra_test: $(ENTRA_T) $(CORE) $(CORE_H)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_T) -o $@ t/unit/entra_test.c $(CORE) -lcrypto -ljansson

$(BUILD)/entra_test_asan: $(ENTRA_T) $(CORE) $(CORE_H)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_T) $(SAN) -o $@ t/unit/entra_test.c $(CORE) \
		-lcrypto -ljansson

# token_test twice: HMAC from SHA-256 pad states, and the EVP_MAC path
# that builds without OpenSSL's low-level digest functions take
TOKEN_T    = t/unit/token_test.c t/unit/check.h

$(BUILD)/token_test: $(TOKEN_T) $(CORE) $(CORE_H)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_T) -o $@ t/unit/token_test.c $(CORE) -lcrypto -ljansson

$(BUILD)/token_test_evp: $(TOKEN_T) $(CORE) $(CORE_H)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_T) -DNGX_WEBPUBSUB_HMAC_EVP -o $@ t/unit/token_test.c \
		$(CORE) -lcrypto -ljansson

$(BUILD)/token_test_asan: $(TOKEN_T) $(CORE) $(CORE_H)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_T) $(SAN) -o $@ t/unit/token_test.c $(CORE) \
		-lcrypto -ljansson

unit: $(BUILD)/core_test $(BUILD)/reply_test $(BUILD)/entra_test \
		$(BUILD)/token_test $(BUILD)/token_test_evp
	$(BUILD)/core_test
	$(BUILD)/reply_test
	$(BUILD)/entra_test
	$(BUILD)/token_test
	$(BUILD)/token_test_evp

unit-asan: $(BUILD)/core_test_asan $(BUILD)/reply_test_asan \
		$(BUILD)/entra_test_asan $(BUILD)/token_test_asan
	$(BUILD)/core_test_asan
	$(BUILD)/reply_test_asan
	$(BUILD)/entra_test_asan
	$(BUILD)/token_test_asan

test: deps build unit
	TEST_NGINX_MODULE=$(MODULE) $(PROVE)

# The module built with AddressSanitizer and UBSan, preloaded into
# Debian's nginx; workers' stderr lands in error.log, which every test
# checks for sanitizer reports.
test-asan: deps build-asan unit-asan
	TEST_NGINX_MODULE=$(ASAN_MOD) \
	TEST_NGINX_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:verify_asan_link_order=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	$(PROVE)

$(BUILD)/token_cost: bench/token_cost.c $(CORE) \
		ngx_webpubsub_module/ngx_webpubsub_core.h
	@mkdir -p $(BUILD)
	$(CC) -std=c99 -O2 -Ingx_webpubsub_module -o $@ bench/token_cost.c \
		$(CORE) -lcrypto -ljansson

# every benchmark, each beside a baseline measured in the same run, pinned
# (the server alone on CPU 0) and unpinned, in requests/s, the server's CPU
# time per request and callgrind's instructions, as a table and a chart
# (bench/all.sh: build/bench/results.*); the soak
BENCH_SECONDS ?= 5
BENCH_ROUNDS  ?= 3

bench: build $(BUILD)/token_cost
	tools/deps.sh bench
	bench/all.sh $(BENCH_SECONDS) $(BENCH_ROUNDS)

soak: build
	tools/deps.sh bench
	bench/soak.sh
	bench/list_memory.sh 30 1000

# libFuzzer targets of the protocol core (Debian clang), each run for
# FUZZ_SECONDS on its committed seeds (fuzz/corpus/NAME) plus what earlier
# runs found (build/fuzz/NAME); a crash leaves its input in build/fuzz/
FUZZERS       = connection_string webhook builders replies entra
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS   = -g -O1 -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=undefined -Ingx_webpubsub_module

fuzz-build:
	tools/deps.sh fuzz
	mkdir -p $(BUILD)/fuzz
	for f in $(FUZZERS); do \
	    clang $(FUZZ_CFLAGS) -o $(BUILD)/fuzz/fuzz_$$f fuzz/fuzz_$$f.c \
	        $(CORE) -lcrypto -ljansson || exit 1; \
	done

fuzz: fuzz-build
	for f in $(FUZZERS); do \
	    mkdir -p $(BUILD)/fuzz/$$f; \
	    $(BUILD)/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) \
	        -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/$$f- \
	        $(BUILD)/fuzz/$$f fuzz/corpus/$$f || exit 1; \
	done

# the suite against a whole nginx built with ASan/UBSan and the module
# built in (tools/build-full.sh), where pool memory is checked too; nginx's
# own benign UBSan reports are suppressed (t/ubsan.supp), leaks at exit
# are nginx's design
test-asan-full: deps unit-asan
	tools/build-full.sh
	ASAN_OPTIONS=detect_leaks=0 \
	UBSAN_OPTIONS=suppressions=$(CURDIR)/t/ubsan.supp:print_stacktrace=1 \
	TEST_NGINX_BINARY=$(BUILD)/asan-full/nginx TEST_NGINX_MODULE=builtin \
	    $(PROVE)

# nginx under valgrind memcheck (one process); nginx's own exit-time
# allocations are not errors, so leak kinds do not count
test-valgrind: deps build
	TEST_NGINX_MODULE=$(MODULE) TEST_NGINX_VALGRIND=1 \
	TEST_NGINX_VALGRIND_OPTS=--errors-for-leak-kinds=none \
	$(PROVE)

# the suite against other nginx releases and forks, each built from its
# source tarball in COMPAT_SRC (tools/compat.sh, docs/compatibility.md)
.PHONY: compat
compat: deps
	tools/deps.sh compat
	@test -n "$(COMPAT_SRC)" \
	    || { echo "usage: make compat COMPAT_SRC=DIR" >&2; exit 2; }
	tools/compat.sh $(COMPAT_SRC)

run: build
	tools/deps.sh run
	RUN_PORT=$(RUN_PORT) AUTH=$(AUTH) tools/run.sh $(MODULE)

# into the installed nginx: the .so where it looks for modules, the
# load_module snippet where the distribution includes them (tools/install.sh
# lists DESTDIR, MODULES_PATH, LAYOUT, SNIPPET_DIR and the other settings)
install: build
	tools/install.sh install $(MODULE)

uninstall:
	tools/install.sh uninstall

# the Debian package libnginx-mod-http-webpubsub, built with debhelper and
# dh_nginx in build/deb/ (its path is the last line), and its check: the
# contents, dependencies, maintainer scripts, hardening, a private nginx
# with the unpacked module, and make install into DESTDIRs
deb:
	tools/deps.sh deb
	tools/deb.sh

deb-check: build
	tools/deps.sh deb
	tools/deb-check.sh

# NGX_HTTP_WEBPUBSUB_VERSION is CHANGES' and debian/changelog's newest
version-check:
	tools/version.sh check

clean:
	rm -rf $(BUILD)
