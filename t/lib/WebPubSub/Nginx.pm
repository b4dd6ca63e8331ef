package WebPubSub::Nginx;

# Test harness for ngx_webpubsub_module.
#
# Core Perl only.  One object per test file: it owns a private directory,
# a set of reserved loopback ports, one nginx master process and any helper
# daemons forked by the test.
#
# Typical use:
#
#   use lib 't/lib';
#   use Test::More;
#   use WebPubSub::Nginx;
#
#   my $t = WebPubSub::Nginx->new();          # new(module => 0): no load_module
#   $t->write_conf(<<'EOF');
#   %%GLOBALS%%
#   events { }
#   http {
#       %%GLOBALS_HTTP%%
#       server {
#           listen 127.0.0.1:%%PORT_0%%;
#           location / { return 200 "hello"; }
#       }
#   }
#   EOF
#   $t->run();
#   $t->plan(1);                               # 1 + 2 implicit final checks
#   is($t->get('/')->{content}, 'hello', 'hello');
#   $t->done();
#
# Methods
#
#   new(%opts)                   module => 0 omits load_module from %%GLOBALS%%
#   testdir()                    the private directory
#   port($n)                     n-th reserved free port (stable per $n)
#   write_file($name, $content)  write a file into testdir (raw bytes)
#   read_file($name)             slurp a file from testdir (raw bytes)
#   write_conf($text)            substitute placeholders, write nginx.conf
#   run()                        start nginx, wait until all listens accept
#   reload()                     SIGHUP, wait for the new configuration
#   stop(%opts)                  stop nginx and daemons; runs the final checks
#                                (once) unless checks => 0 is given
#   done()                       stop() + final checks, for the end of a test
#   nginx_t($conf_text)          nginx -t on a separate conf: ($exit, $output)
#   conf_location($http, $loc)  a whole nginx.conf: $http at http level, a
#                                server on PORT_0 with $loc in location /
#   conf_service($server)        a whole nginx.conf with a service, hub chat
#                                and webpubsub_rest_pass /_webpubsub/ at http
#                                level, and a server on PORT_0 with that
#                                internal location and $server
#   nginx_t_limit($name, $http, $want)
#                                one test: with $want (a regex) nginx -t of
#                                $http alone fails with it; without, passes
#   nginx_t_case($name, $conf_text, $want)
#                                three tests: with $want (a regex), nginx -t
#                                fails with one [emerg] line matching it;
#                                without, it passes with no error line
#   run_daemon(\&code, @args)    fork a helper process, killed by stop();
#                                reserve its ports with port() beforehand
#   wait_for_port($port, $secs)  poll until 127.0.0.1:$port accepts
#   plan($n)                     Test::More plan of $n + 2 (final checks)
#   error_log()                  text of error.log
#   error_log_like($re, $name)   like() on error.log
#   http($raw, %opts)            raw request; opts port, timeout; returns
#                                everything read until EOF/timeout, or undef
#                                if the connection fails
#   request($method, $path, %o)  HTTP::Tiny request; opts port, headers, body,
#                                timeout; returns the HTTP::Tiny response hash
#   get($path, %opts)            request('GET', ...)
#
# Exported functions
#
#   b64url_encode($bytes)        unpadded base64url
#   b64url_decode($text)         strict: dies on anything non-canonical
#   jwt_decode($token)           ($header, $payload, $signing_input, $sig)
#   jwt_verify_hs256($token, $key)
#   hmac_sha256_hex($key, $msg)  note: key first (Digest::SHA is msg first)
#
# Environment
#
#   TEST_NGINX_BINARY      nginx binary (default /usr/sbin/nginx), or a
#                          fork's (Angie, OpenResty); nginx 1.18.0 and up
#   TEST_NGINX_MODULE      path of the module .so for load_module, or
#                          "builtin" for a binary built with --add-module
#   TEST_NGINX_LEAVE       keep the test directory
#   TEST_NGINX_PRELOAD     LD_PRELOAD for nginx only (ASan runtime)
#   TEST_NGINX_VALGRIND    run nginx (master and workers) under valgrind
#   TEST_NGINX_VALGRIND_OPTS  extra valgrind options, space separated

use strict;
use warnings;

use Test::More ();
use IO::Socket::INET;
use IO::Select;
use HTTP::Tiny;
use File::Temp qw(tempdir);
use File::Spec;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use JSON::PP;
use Digest::SHA ();
use MIME::Base64 qw(encode_base64 decode_base64);
use Fcntl qw(:flock O_RDONLY O_CREAT);
use Exporter qw(import);

our @EXPORT = qw(b64url_encode b64url_decode jwt_decode jwt_verify_hs256
    hmac_sha256_hex);

use constant POLL_INTERVAL => 0.02;
# below the kernel's ephemeral range (32768 and up on Linux): a port
# there can be taken by any outgoing connection between the probe and the
# bind
use constant PORT_MIN      => 10000;
use constant PORT_MAX      => 32000;
use constant LOCK_DIR      => '/tmp';

# Objects that still have something to tear down (nginx or daemons
# running, final checks pending).  Test::More's own END block (which checks
# the plan) was compiled before ours, so ours runs first: the final checks
# are counted even when the test forgets done().  File-scoped lexicals are
# only destroyed after all END blocks, which would be too late.
my %LIVE;

END {
    # waitpid() in stop() would clobber the exit status of the test.
    local $?;
    for my $t (values %LIVE) {
        $t->stop();
    }
}

sub new {
    my ($class, %opts) = @_;

    my $dir = tempdir('webpubsub-test-XXXXXXXX',
        TMPDIR => 1, CLEANUP => !$ENV{TEST_NGINX_LEAVE});

    # nginx workers may run as a different user than the test.
    chmod 0755, $dir or die "chmod $dir: $!\n";

    my $self = bless {
        dir         => $dir,
        module      => exists $opts{module} ? $opts{module} : 1,
        owner_pid   => $$,       # forked children must never tear down
        ports       => [],       # n => port
        port_locks  => {},       # port => locked file handle
        nginx_pid   => undef,
        daemons     => [],
        t_count     => 0,
        planned     => 0,
        checks_done => 0,
    }, $class;

    Test::More::note("test directory: $dir") if $ENV{TEST_NGINX_LEAVE};
    return $self;
}

sub testdir { $_[0]{dir} }

sub _update_live {
    my ($self) = @_;
    my $pending = $self->{nginx_pid} || @{$self->{daemons}}
        || ($self->{planned} && !$self->{checks_done});
    if ($pending) {
        $LIVE{"$self"} = $self;
    } else {
        delete $LIVE{"$self"};
    }
}

sub _valgrind { $ENV{TEST_NGINX_VALGRIND} ? 1 : 0 }

# Run times grow a lot under valgrind.
sub _scaled { my ($secs) = @_; _valgrind() ? $secs * 6 : $secs }

###############################################################################
# Ports

sub port {
    my ($self, $n) = @_;
    die "port() needs a non-negative index\n"
        unless defined $n && $n =~ /\A\d+\z/;

    return $self->{ports}[$n] if defined $self->{ports}[$n];

    for (1 .. 1000) {
        my $port = PORT_MIN + int(rand(PORT_MAX - PORT_MIN + 1));
        next if $self->{port_locks}{$port};

        # The lock file coordinates with other test files of this suite
        # running in parallel (prove -j); it is held as long as we live.
        my $path = File::Spec->catfile(LOCK_DIR,
            "webpubsub-test-port-$port.lock");
        sysopen(my $lock, $path, O_RDONLY | O_CREAT, 0666) or next;
        unless (flock($lock, LOCK_EX | LOCK_NB)) {
            close $lock;
            next;
        }

        # The bind probe catches anything else using the port.  nginx sets
        # SO_REUSEADDR too, so TIME_WAIT leftovers are not a conflict.
        # The probe is closed at once so that nginx can bind the port.
        my $probe = IO::Socket::INET->new(
            Proto     => 'tcp',
            LocalAddr => '127.0.0.1',
            LocalPort => $port,
            ReuseAddr => 1,
            Listen    => 1,
        );
        unless ($probe) {
            close $lock;
            next;
        }
        close $probe;

        $self->{port_locks}{$port} = $lock;
        return $self->{ports}[$n] = $port;
    }

    die "port($n): no free port found\n";
}

###############################################################################
# Files and configuration

sub _path {
    my ($self, $name) = @_;
    return File::Spec->file_name_is_absolute($name)
        ? $name : File::Spec->catfile($self->{dir}, $name);
}

sub write_file {
    my ($self, $name, $content) = @_;
    my $path = $self->_path($name);
    open my $fh, '>:raw', $path or die "write $path: $!\n";
    print {$fh} $content;
    close $fh or die "write $path: $!\n";
    return $path;
}

sub read_file {
    my ($self, $name) = @_;
    my $path = $self->_path($name);
    open my $fh, '<:raw', $path or die "read $path: $!\n";
    local $/;
    my $content = <$fh>;
    close $fh;
    return $content // '';
}

# Text of a file, or '' if it does not exist (yet).
sub _slurp_if_exists {
    my ($self, $name) = @_;
    my $path = $self->_path($name);
    return -f $path ? $self->read_file($path) : '';
}

sub _module_path {
    my $module = $ENV{TEST_NGINX_MODULE};
    die "TEST_NGINX_MODULE is not set: it must name the built "
        . "ngx_webpubsub_module .so (or use new(module => 0))\n"
        unless defined $module && length $module;
    die "TEST_NGINX_MODULE=$module is not a file\n" unless -f $module;
    return File::Spec->rel2abs($module);
}

# $error_log lets nginx_t() keep its messages out of the error.log that
# the final checks look at.
sub _substitute {
    my ($self, $text, $error_log) = @_;
    my $dir = $self->{dir};
    $error_log //= "$dir/error.log";

    $text =~ s/%%TESTDIR%%/$dir/g;
    $text =~ s/%%PORT_(\d+)%%/$self->port($1)/ge;

    if ($text =~ /%%GLOBALS%%/) {
        my @g = (
            'daemon off;',
            "pid $dir/nginx.pid;",
            "error_log $error_log debug;",
        );
        # TEST_NGINX_MODULE=builtin: a binary with the module linked in
        push @g, 'load_module ' . _module_path() . ';'
            if $self->{module} && ($ENV{TEST_NGINX_MODULE} // '') ne 'builtin';
        # In CI we are root; workers must still be able to read test files.
        push @g, 'user root;' if $> == 0;
        push @g, 'worker_processes 1;';
        # Under valgrind, master and workers alike are checked: valgrind
        # follows nginx's fork() of its workers by itself, one log each.
        my $globals = join("\n", @g);
        $text =~ s/%%GLOBALS%%/$globals/g;
    }

    if ($text =~ /%%GLOBALS_HTTP%%/) {
        # Debian's nginx has compiled-in temp paths under /var/lib/nginx.
        my $http = join("\n",
            "access_log $dir/access.log;",
            map { "${_}_temp_path $dir/${_}_temp;" }
                qw(client_body proxy fastcgi uwsgi scgi));
        $text =~ s/%%GLOBALS_HTTP%%/$http/g;
    }

    return $text;
}

sub write_conf {
    my ($self, $text) = @_;
    $self->write_file('nginx.conf', $self->_substitute($text));
    return $self;
}

# Ports nginx will listen on, as written in nginx.conf (TCP only).
sub _listen_ports {
    my ($self) = @_;
    my $conf = $self->_slurp_if_exists('nginx.conf');
    $conf =~ s/#.*//g;    # comments (naive, but "#" in strings is rare)
    my %seen;
    my @ports;
    while ($conf =~ /\blisten\s+127\.0\.0\.1:(\d+)([^;]*)/g) {
        my ($port, $rest) = ($1, $2);
        next if $rest =~ /\budp\b/;
        push @ports, $port unless $seen{$port}++;
    }
    return @ports;
}

###############################################################################
# Processes

# Last lines of a log file, for failure messages.
sub _tail {
    my ($self, $name, $lines) = @_;
    my @all = split /\n/, $self->_slurp_if_exists($name);
    @all = @all[-$lines .. -1] if @all > $lines;
    return "--- $name (last $lines lines) ---\n"
        . join('', map { "$_\n" } @all);
}

sub _failure_logs {
    my ($self) = @_;
    return $self->_tail('error.log', 20) . $self->_tail('stderr.log', 20);
}

sub _flush_std {
    # Avoid duplicated buffered output after fork().
    STDOUT->flush();
    STDERR->flush();
}

sub _nginx_command {
    my ($self, @args) = @_;
    my @cmd = ($ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx', @args);
    return @cmd;
}

# Child side of fork(): redirect output, set the environment, exec.
# Never returns; _exit() keeps END blocks and destructors out of the child.
sub _exec_child {
    my ($out_path, @cmd) = @_;

    if (open(STDOUT, '>>', $out_path) && open(STDERR, '>&', \*STDOUT)) {
        # Only nginx gets the sanitizer runtime, not perl.  ASAN_OPTIONS
        # and UBSAN_OPTIONS are simply inherited.
        $ENV{LD_PRELOAD} = $ENV{TEST_NGINX_PRELOAD}
            if defined $ENV{TEST_NGINX_PRELOAD}
                && length $ENV{TEST_NGINX_PRELOAD};
        { no warnings 'exec'; exec { $cmd[0] } @cmd; }
        print STDERR "exec $cmd[0]: $!\n";
    }
    POSIX::_exit(127);
}

sub _port_accepts {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(
        Proto    => 'tcp',
        PeerAddr => '127.0.0.1',
        PeerPort => $port,
        Timeout  => 1,
    );
    return 0 unless $s;
    close $s;
    return 1;
}

# Whether the binary has -e (the log nginx writes before it has read
# error_log in its configuration), by its own -h: nginx has it since
# 1.19.5, forks since their own versions.  Once per binary and process.
my %HAS_E;

sub _has_e_option {
    my ($self) = @_;
    my $bin = ($self->_nginx_command())[0];
    return $HAS_E{$bin} if exists $HAS_E{$bin};

    my $out = "$self->{dir}/nginx-h.log";
    _flush_std();
    my $pid = fork() // die "fork: $!\n";
    _exec_child($out, $bin, '-h') if $pid == 0;
    _terminate($pid, 'KILL', 0) unless _reap($pid, 30);
    die "$bin -h: no usage printed\n" . $self->_tail('nginx-h.log', 5)
        unless $self->_slurp_if_exists($out) =~ /^\s*-\?,-h\b/m;

    return $HAS_E{$bin} = $self->read_file($out) =~ /^\s*-e filename\b/m;
}

# The early log's options: -e $path, or, without -e, nothing: then nginx
# logs to its compiled-in error log path, which tools/compat.sh builds
# relative ("logs/error.log") so that under -p it is in the test directory.
sub _early_log {
    my ($self, $path) = @_;
    return ('-e', $path) if $self->_has_e_option();
    my $logs = "$self->{dir}/logs";
    -d $logs or mkdir $logs or die "mkdir $logs: $!\n";
    return ();
}

sub run {
    my ($self) = @_;
    my $dir = $self->{dir};

    die "nginx is already running\n" if $self->{nginx_pid};
    die "write_conf() first\n" unless -f "$dir/nginx.conf";

    my @cmd = $self->_nginx_command(
        '-p', "$dir/", '-c', "$dir/nginx.conf",
        $self->_early_log("$dir/error.log"));

    if (_valgrind()) {
        unshift @cmd, 'valgrind', '--leak-check=full', '--error-exitcode=0',
            "--log-file=$dir/valgrind.%p.log",
            split(' ', $ENV{TEST_NGINX_VALGRIND_OPTS} // '');
    }

    _flush_std();
    my $pid = fork() // die "fork: $!\n";
    _exec_child("$dir/stderr.log", @cmd) if $pid == 0;
    $self->{nginx_pid} = $pid;
    $self->_update_live();

    # Ready means: every listen socket from the conf accepts connections.
    my @ports = $self->_listen_ports();
    my $deadline = time() + (_valgrind() ? 60 : 10);

    while (1) {
        if (waitpid($pid, WNOHANG) == $pid) {
            my $status = $?;
            $self->{nginx_pid} = undef;
            die "nginx exited during startup (status $status)\n"
                . $self->_failure_logs();
        }

        @ports = grep { !_port_accepts($_) } @ports;
        last unless @ports;

        if (time() > $deadline) {
            $self->_stop_nginx();
            die "nginx did not listen on @ports in time\n"
                . $self->_failure_logs();
        }
        sleep(POLL_INTERVAL);
    }

    return $self;
}

sub reload {
    my ($self) = @_;
    my $pid = $self->{nginx_pid} or die "nginx is not running\n";

    # Only what nginx writes from now on is read: under load the debug
    # log grows fast, and re-reading all of it on every poll would not.
    my $log = "$self->{dir}/error.log";
    my $offset = -s $log // 0;

    # the workers alive now: started, and not yet told to go
    my $before = $self->error_log();
    my %old_workers = map { $_ => 1 } $before =~ /start worker process (\d+)/g;
    delete $old_workers{$_} for $before =~ /\b(\d+)#\d+: gracefully shutting down/g;
    delete $old_workers{$_} for $before =~ /worker process (\d+) exited/g;

    kill 'HUP', $pid or die "kill HUP $pid: $!\n";

    # The new configuration is fully in charge once the master logged
    # "reconfiguring" and every old worker logged that it stopped
    # accepting ("gracefully shutting down"; it may keep serving open
    # connections for a while).  Single process mode has no workers.
    my $deadline = time() + _scaled(10);
    my $after = '';
    while (1) {
        if (open my $fh, '<', $log) {
            binmode $fh;
            seek($fh, $offset + length $after, 0);
            local $/;
            $after .= <$fh> // '';
        }
        if ($after =~ /reconfiguring/) {
            my @left = grep {
                $after !~ /\b$_#\d+: gracefully shutting down/
                    && $after !~ /worker process $_ exited/
            } keys %old_workers;
            last unless @left;
        }
        if (waitpid($pid, WNOHANG) == $pid) {
            $self->{nginx_pid} = undef;
            die "nginx exited during reload\n" . $self->_failure_logs();
        }
        die "nginx did not reload in time\n" . $self->_failure_logs()
            if time() > $deadline;
        sleep(POLL_INTERVAL);
    }

    $self->wait_for_port($_, _scaled(10)) for $self->_listen_ports();
    return $self;
}

# Wait for $pid to exit, up to $secs seconds.  True if it was reaped (or
# was not our child any more).
sub _reap {
    my ($pid, $secs) = @_;
    my $deadline = time() + $secs;
    while (1) {
        my $r = waitpid($pid, WNOHANG);
        return 1 if $r == $pid || $r == -1;
        return 0 if time() > $deadline;
        sleep(POLL_INTERVAL);
    }
}

# Escalating shutdown of one process: $first signal, then TERM, then KILL.
sub _terminate {
    my ($pid, $first, $secs) = @_;
    if ($first ne 'KILL') {
        kill $first, $pid;
        return if _reap($pid, $secs);
    }
    if ($first ne 'TERM' && $first ne 'KILL') {
        kill 'TERM', $pid;
        return if _reap($pid, 5);
    }
    # A master killed this way would leave its workers (and ports) behind.
    kill 'KILL', _children_of($pid), $pid;
    _reap($pid, 5);
}

# Direct children of $pid, from /proc (Linux).
sub _children_of {
    my ($pid) = @_;
    my @children;
    for my $stat (glob('/proc/[0-9]*/stat')) {
        open my $fh, '<', $stat or next;
        my $line = <$fh> // next;
        # "pid (comm) state ppid ...": comm may contain spaces or parens.
        push @children, $1
            if $line =~ /\A(\d+) \(.*\) \S+ (\d+) / && $2 == $pid;
    }
    return @children;
}

sub _stop_nginx {
    my ($self) = @_;
    my $pid = delete $self->{nginx_pid} or return;
    # QUIT is a graceful shutdown: lets nginx free everything (matters
    # for leak checkers) and run the module's exit hooks.
    _terminate($pid, 'QUIT', _scaled(10));
}

sub _stop_daemons {
    my ($self) = @_;
    my @pids = @{$self->{daemons}};
    $self->{daemons} = [];
    # Signal all first so they shut down in parallel, then reap each.
    kill 'TERM', @pids if @pids;
    for my $pid (@pids) {
        next if _reap($pid, 5);
        kill 'KILL', _children_of($pid), $pid;
        _reap($pid, 5);
    }
}

sub stop {
    my ($self, %opts) = @_;
    return $self unless $$ == $self->{owner_pid};

    local $?;    # keep the test's exit status intact
    $self->_stop_nginx();
    $self->_stop_daemons();
    $self->_final_checks() unless exists $opts{checks} && !$opts{checks};
    $self->_update_live();
    return $self;
}

sub done {
    my ($self) = @_;
    return $self->stop();
}

sub DESTROY {
    my ($self) = @_;
    # Children inherit a copy of the object; only the creator cleans up.
    # stop() checks the pid too.
    $self->stop() if $self->{owner_pid};
}

sub run_daemon {
    my ($self, $code, @args) = @_;
    _flush_std();
    my $pid = fork() // die "fork: $!\n";
    if ($pid == 0) {
        my $ok = eval { $code->(@args); 1 };
        print STDERR "run_daemon: $@" unless $ok;
        POSIX::_exit($ok ? 0 : 1);
    }
    push @{$self->{daemons}}, $pid;
    $self->_update_live();
    return $pid;
}

sub wait_for_port {
    my ($self, $port, $timeout) = @_;
    my $deadline = time() + ($timeout // 10);
    until (_port_accepts($port)) {
        die "nothing accepts connections on 127.0.0.1:$port\n"
            if time() > $deadline;
        sleep(POLL_INTERVAL);
    }
    return 1;
}

sub nginx_t {
    my ($self, $conf_text) = @_;
    my $dir = $self->{dir};
    my $n = $self->{t_count}++;

    my $conf = $self->write_file("test-$n.conf",
        $self->_substitute($conf_text, "$dir/t-error.log"));
    my $out = "$dir/t-output-$n.log";

    my @cmd = $self->_nginx_command(
        '-t', '-p', "$dir/", '-c', $conf,
        $self->_early_log("$dir/t-error.log"));

    _flush_std();
    my $pid = fork() // die "fork: $!\n";
    _exec_child($out, @cmd) if $pid == 0;

    my $status;
    my $ok = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm(30);
        waitpid($pid, 0);
        $status = $?;
        alarm(0);
        1;
    };
    alarm(0);
    unless ($ok) {
        _terminate($pid, 'KILL', 5);
        die "nginx -t did not finish in 30 s: $@";
    }

    my $code = $status & 127 ? 128 + ($status & 127) : $status >> 8;
    return ($code, $self->_slurp_if_exists($out));
}

sub conf_location {
    my ($self, $http, $loc) = @_;

    return <<"EOF";
%%GLOBALS%%
events { }
http {
    %%GLOBALS_HTTP%%
    $http
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / {
            $loc
        }
    }
}
EOF
}

sub conf_service {
    my ($self, $server) = @_;

    return <<"EOF";
%%GLOBALS%%
events { }
http {
    %%GLOBALS_HTTP%%
    webpubsub_connection_string
        "Endpoint=http://127.0.0.1;Port=8080;AccessKey=abc;Version=1.0;";
    webpubsub_hub chat;
    webpubsub_rest_pass /_webpubsub/;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location /_webpubsub/ { internal; proxy_pass http://127.0.0.1:8080; }
        $server
    }
}
EOF
}

sub nginx_t_limit {
    my ($self, $name, $http, $want) = @_;

    my ($code, $out) = $self->nginx_t(<<"EOF");
%%GLOBALS%%
events { }
http {
    %%GLOBALS_HTTP%%
    $http
}
EOF

    if (defined $want) {
        Test::More::ok($code != 0 && $out =~ $want, "nginx -t: $name: refused")
            or Test::More::diag("exit $code: " . substr($out, 0, 600));
    } else {
        Test::More::ok($code == 0 && $out =~ /test is successful/,
            "nginx -t: $name: accepted")
            or Test::More::diag("exit $code: " . substr($out, 0, 600));
    }

    return ($code, $out);
}

sub nginx_t_case {
    my ($self, $name, $conf_text, $want) = @_;

    my ($code, $out) = $self->nginx_t($conf_text);

    if (defined $want) {
        Test::More::isnt($code, 0, "$name: nginx -t fails");
        Test::More::like($out, $want, "$name: the message says what is wrong");
        my @emerg = grep { /\[emerg\]/ } split /\n/, $out;
        Test::More::is(scalar @emerg, 1, "$name: one [emerg] line")
            or Test::More::diag($out);

    } else {
        Test::More::is($code, 0, "$name: nginx -t passes")
            or Test::More::diag($out);
        Test::More::unlike($out, qr/\[(emerg|alert|crit|error)\]/,
            "$name: no errors");
        Test::More::like($out, qr/test is successful/,
            "$name: test is successful");
    }

    return ($code, $out);
}

###############################################################################
# Final checks (the two implicit tests added by plan())

sub plan {
    my ($self, $n) = @_;
    Test::More::plan(tests => $n + 2);
    $self->{planned} = 1;
    $self->_update_live();
    return $self;
}

sub error_log {
    my ($self) = @_;
    return $self->_slurp_if_exists('error.log');
}

sub error_log_like {
    my ($self, $re, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return Test::More::like($self->error_log(), $re, $name);
}

sub _final_checks {
    my ($self) = @_;
    return unless $self->{planned} && !$self->{checks_done};
    return unless $$ == $self->{owner_pid};
    $self->{checks_done} = 1;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my @alerts = grep { /\[(?:alert|emerg|crit)\]/ }
        split /\n/, $self->error_log();
    Test::More::ok(!@alerts, 'no alerts')
        or Test::More::diag(join "\n", @alerts);

    # nginx -t output is included: sanitizer reports there are real bugs.
    my @files = ('error.log', 'stderr.log',
        map { "t-output-$_.log" } 0 .. $self->{t_count} - 1);
    my @errors;
    for my $f (@files) {
        push @errors, map { "$f: $_" } grep { /Sanitizer|runtime error:/ }
            split /\n/, $self->_slurp_if_exists($f);
    }
    if (_valgrind()) {
        for my $f (glob("$self->{dir}/valgrind.*.log")) {
            my $log = $self->read_file($f);
            push @errors, "$f:\n$log" if $log =~ /ERROR SUMMARY: [1-9]/;
        }
    }
    Test::More::ok(!@errors, 'no sanitizer errors')
        or Test::More::diag(join "\n", @errors);
}

###############################################################################
# HTTP clients

sub http {
    my ($self, $request, %opts) = @_;
    my $port = $opts{port} // $self->port(0);
    my $deadline = time() + ($opts{timeout} // 10);

    my $s = IO::Socket::INET->new(
        Proto    => 'tcp',
        PeerAddr => '127.0.0.1',
        PeerPort => $port,
        Timeout  => $opts{timeout} // 10,
    ) or return undef;

    # A server closing early must fail the test, not kill it.
    local $SIG{PIPE} = 'IGNORE';

    # select() before each call so that both directions respect the deadline.
    my $sel = IO::Select->new($s);
    my $off = 0;
    while ($off < length $request) {
        my $left = $deadline - time();
        last if $left <= 0 || !$sel->can_write($left);
        my $n = syswrite($s, $request, length($request) - $off, $off);
        last unless defined $n;    # peer closed early: still read the reply
        $off += $n;
    }

    my $response = '';
    while (1) {
        my $left = $deadline - time();
        last if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($s, my $buf, 65536);
        last unless $n;            # EOF or error
        $response .= $buf;
    }

    close $s;
    return $response;
}

sub request {
    my ($self, $method, $path, %opts) = @_;
    my $port = $opts{port} // $self->port(0);

    # Redirects are answers under test, so they are not followed.
    my $ua = HTTP::Tiny->new(
        keep_alive   => 0,
        timeout      => $opts{timeout} // 10,
        max_redirect => 0,
    );

    my %args;
    $args{headers} = $opts{headers} if $opts{headers};
    $args{content} = $opts{body} if defined $opts{body};

    return $ua->request($method, "http://127.0.0.1:$port$path", \%args);
}

sub get {
    my ($self, $path, %opts) = @_;
    return $self->request('GET', $path, %opts);
}

###############################################################################
# Crypto helpers, independent of the module under test

my $JSON = JSON::PP->new->utf8->canonical;

sub b64url_encode {
    my ($bytes) = @_;
    my $text = encode_base64($bytes, '');
    $text =~ tr{+/}{-_};
    $text =~ s/=+\z//;
    return $text;
}

sub b64url_decode {
    my ($text) = @_;
    die "b64url_decode: undefined input\n" unless defined $text;
    die "b64url_decode: invalid character in '$text'\n"
        unless $text =~ /\A[A-Za-z0-9_-]*\z/;
    die "b64url_decode: impossible length in '$text'\n"
        if length($text) % 4 == 1;

    (my $std = $text) =~ tr{-_}{+/};
    $std .= '=' x ((4 - length($std) % 4) % 4);
    my $bytes = decode_base64($std);

    # Reject non-zero padding bits: only one spelling per byte string.
    die "b64url_decode: non-canonical encoding '$text'\n"
        unless b64url_encode($bytes) eq $text;
    return $bytes;
}

sub _json_object {
    my ($what, $bytes) = @_;
    my $data;
    eval { $data = $JSON->decode($bytes); 1 }
        or die "jwt_decode: $what is not valid JSON: $@";
    die "jwt_decode: $what is not a JSON object\n"
        unless ref $data eq 'HASH';
    return $data;
}

sub jwt_decode {
    my ($token) = @_;
    die "jwt_decode: undefined token\n" unless defined $token;

    my @parts = split /\./, $token, -1;
    die "jwt_decode: expected 3 parts, got " . scalar(@parts) . "\n"
        unless @parts == 3;

    my $header  = _json_object('header',  b64url_decode($parts[0]));
    my $payload = _json_object('payload', b64url_decode($parts[1]));
    my $sig     = b64url_decode($parts[2]);

    return ($header, $payload, "$parts[0].$parts[1]", $sig);
}

sub jwt_verify_hs256 {
    my ($token, $key) = @_;
    my (undef, undef, $input, $sig) = eval { jwt_decode($token) }
        or return 0;
    my $expected = Digest::SHA::hmac_sha256($input, $key);
    return length($sig) == length($expected) && $sig eq $expected ? 1 : 0;
}

sub hmac_sha256_hex {
    my ($key, $msg) = @_;
    return Digest::SHA::hmac_sha256_hex($msg, $key);
}

1;
