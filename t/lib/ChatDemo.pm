package ChatDemo;

# The chat demo of "make run", started for the end-to-end tests
# (t/e2e_client.t, t/e2e_browser.t and their _entra twins): the local Web
# PubSub emulator (emulator/service.js), the chat app (demo/app.js) and
# nginx with examples/chat.conf, its ports rewritten to reserved ones and
# __DEMO__ to the demo folder, as tools/run.sh does.  With auth => 'entra'
# it is "make run AUTH=entra": examples/chat-entra.conf, the local Entra ID
# stand-in (emulator/identity.js, WebPubSub::Identity) and the emulator
# with local auth disabled (WPS_AUTH=entra), its webhooks carrying a
# Bearer token for the audience of the conf's webpubsub_event_auth.
#
#   ChatDemo::missing()                    why the demo cannot run, or undef
#   my $demo = ChatDemo->start(auth => 'entra');
#                                          dies if something does not start;
#                                          auth 'key' (default) or 'entra'
#   $demo->t                               the WebPubSub::Nginx object
#   $demo->auth                            'key' or 'entra'
#   $demo->key                             the access key of chat.conf
#                                          (undef in Entra mode)
#   $demo->idp                             the WebPubSub::Identity (Entra)
#   $demo->audience                        the webhooks' audience (Entra)
#   $demo->nginx_origin, service_origin, nginx_port, service_port, app_port
#   $demo->app_events, service_log         APP_LOG and WPS_LOG, parsed
#   $demo->wait_until(sub { ... }, $secs)  poll a condition with a deadline
#   $demo->oracle($script, timeout => $secs, env => { ... })
#                                          run t/oracle/$script with node;
#                                          its stdout parsed as JSON
#   $demo->logs_for_diag                   the tails of every log
#   ChatDemo::scaled($secs)                longer under valgrind
#
# Every process is a daemon of the harness object, stopped with it (nginx
# first).  Ports: nginx port(0), the service port(1), the app port(2), the
# identity provider port(3).

use strict;
use warnings;

use FindBin;
use File::Spec;
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep time);
use WebPubSub::Nginx;
use WebPubSub::Identity;


my $JSON = JSON::PP->new->utf8->canonical;

sub node { $ENV{TEST_NODE} // 'node' }

# Run times grow a lot under valgrind (as in the harness).
sub scaled { my ($secs) = @_; $ENV{TEST_NGINX_VALGRIND} ? $secs * 6 : $secs }

sub top { File::Spec->rel2abs("$FindBin::Bin/..") }

sub slurp {
    my ($path) = @_;
    open my $fh, '<:raw', $path or return '';
    local $/;
    my $text = <$fh>;
    return $text // '';
}

sub _tail {
    my ($path, $n) = @_;
    my @lines = split /\n/, slurp($path);
    @lines = @lines[-$n .. -1] if @lines > $n;
    return "--- $path ---\n" . join('', map { "$_\n" } @lines);
}

# What is missing for the demo to run at all, or undef.
sub missing {
    my $top = top();
    return "emulator/service.js does not exist"
        unless -f "$top/emulator/service.js";
    for my $dir (qw(emulator demo)) {
        return "$dir/node_modules is missing (tools/deps.sh run, or "
            . "cd $dir && npm ci)" unless -d "$top/$dir/node_modules";
    }
    return "t/node_modules is missing (cd t && npm ci)"
        unless -d "$top/t/node_modules/\@azure/web-pubsub-client";
    return undef;
}

# examples/chat.conf (chat-entra.conf) with the ports of this test and
# the demo path
sub chat_conf {
    my ($self) = @_;
    my $top = top();
    my $entra = $self->{auth} eq 'entra';
    my $name = $entra ? 'chat-entra.conf' : 'chat.conf';
    my $conf = slurp("$top/examples/$name");
    die "examples/$name is missing or empty\n" unless length $conf;

    my %ports = (8080 => $self->{nginx_port}, 8081 => $self->{service_port},
        8082 => $self->{app_port}, 8083 => $self->{idp_port});
    my $n = 0;
    $n += $conf =~ s/127\.0\.0\.1:(808[0-3])\b/127.0.0.1:$ports{$1}/g;
    $conf =~ s/__DEMO__/$top\/demo/g;

    # the key the service is given (Entra: the tenant and the audience of
    # its webhooks), and the hub, are the ones of the conf
    ($self->{hub}) = $conf =~ /^\s*webpubsub_hub\s+(\S+);/m;
    if ($entra) {
        ($self->{tenant}) = $conf =~ /\btenant_id=([^\s;]+)/;
        ($self->{audience}) = $conf =~ /\baudience=([^\s;]+)/;
        die "examples/$name: no webpubsub_credential, webpubsub_hub and "
            . "webpubsub_event_auth with tenant_id= and audience=\n"
            unless $conf =~ /^\s*webpubsub_credential\s+managed_identity;/m
                && $self->{hub} && $self->{tenant} && $self->{audience};
        die "examples/$name: an access key in the Entra ID demo\n"
            if $conf =~ /^\s*webpubsub_access_key|AccessKey=/m;
    } else {
        ($self->{key}) = $conf =~ /^\s*webpubsub_access_key\s+(\S+);/m;
        die "examples/$name: no webpubsub_access_key and webpubsub_hub "
            . "at the http level\n" unless $self->{key} && $self->{hub};
    }

    # Anything the rewriting missed would point at the developer's own
    # "make run", or at nothing.
    die "examples/$name: no 127.0.0.1:8080..8083 to rewrite\n"
        unless $n;
    (my $code = $conf) =~ s/#.*//g;
    die "examples/$name: unexpected address left after rewriting:\n$conf"
        if $code =~ /\blocalhost\b|:808[0-9]\b/;
    return $conf;
}

sub start {
    my ($class, %o) = @_;

    my $auth = $o{auth} // 'key';
    die "ChatDemo: auth must be key or entra\n"
        unless $auth eq 'key' || $auth eq 'entra';

    my $t = WebPubSub::Nginx->new();
    my $dir = $t->testdir;
    my $top = top();
    my $self = bless {
        t            => $t,
        top          => $top,
        auth         => $auth,
        nginx_port   => $t->port(0),
        service_port => $t->port(1),
        app_port     => $t->port(2),
        idp_port     => $t->port(3),
        app_log      => "$dir/app.jsonl",
        service_log  => "$dir/service.jsonl",
        oracle_runs  => 0,
    }, $class;
    $self->{nginx_origin} = "http://127.0.0.1:$self->{nginx_port}";
    $self->{service_origin} = "http://127.0.0.1:$self->{service_port}";

    for my $f ($self->{app_log}, $self->{service_log}) {
        open my $fh, '>', $f or die "create $f: $!\n";
        close $fh;
    }

    my $chat = $self->chat_conf();
    $t->write_conf(<<"EOF");
%%GLOBALS%%

events {
}

http {
    %%GLOBALS_HTTP%%
    include /etc/nginx/mime.types;

    # examples/chat.conf, rewritten
$chat
}
EOF

    # The identity provider (Entra ID), the app, then nginx in front of
    # it, then the service, which calls nginx's event handler.
    if ($auth eq 'entra') {
        $self->{idp} = WebPubSub::Identity->start($t, port => 3,
            name => 'idp', lifetime => $o{lifetime} // 300);
        die "the identity provider's tenant is not the one of "
            . "examples/chat-entra.conf\n"
            unless $self->{idp}->tenant eq $self->{tenant};
    }

    $self->_daemon('app', "$top/demo/app.js",
        APP_PORT     => $self->{app_port},
        APP_ANNOUNCE => "$self->{nginx_origin}/internal/announce",
        APP_LOG      => $self->{app_log},
    );
    $self->_wait_listening('app', $self->{app_port});

    $t->run();

    if ($auth eq 'entra') {
        # as tools/run.sh AUTH=entra starts it
        $self->{wps} = WebPubSub::Identity::start_emulator($t,
            idp => $self->{idp}, port => 1, name => 'service',
            lifetime => $o{lifetime} // 300, env => {
                WPS_ENDPOINT         => $self->{service_origin},
                WPS_WEBHOOK_AUDIENCE => $self->{audience},
                WPS_EVENT_HANDLER    => "$self->{nginx_origin}/eventhandler/",
            });
        return $self;
    }

    $self->_daemon('service', "$top/emulator/service.js",
        WPS_PORT          => $self->{service_port},
        WPS_ENDPOINT      => $self->{service_origin},
        WPS_KEYS          => $self->{key},
        WPS_EVENT_HANDLER => "$self->{nginx_origin}/eventhandler/",
        WPS_LOG           => $self->{service_log},
        WPS_LIFETIME      => $o{lifetime} // 300,
    );
    $self->_wait_listening('service', $self->{service_port},
        qr{web pubsub local service on http://127\.0\.0\.1:$self->{service_port}\b});

    return $self;
}

sub _daemon {
    my ($self, $name, $script, %env) = @_;
    my $out = $self->{t}->testdir . "/$name.out";
    $self->{pid}{$name} = $self->{t}->run_daemon(sub {
        @ENV{keys %env} = values %env;
        # stdin must not be the test's: prove may give us a terminal
        open(STDIN, '<', '/dev/null') or die "stdin: $!";
        open(STDOUT, '>>', $out) or die "$out: $!";
        open(STDERR, '>&', \*STDOUT) or die "dup: $!";
        exec(node(), $script) or die "exec node: $!";
    });
}

sub _accepts {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(Proto => 'tcp', PeerAddr => '127.0.0.1',
        PeerPort => $port, Timeout => 1) or return 0;
    close $s;
    return 1;
}

sub _wait_listening {
    my ($self, $name, $port, $banner) = @_;
    my $out = $self->{t}->testdir . "/$name.out";
    my $pid = $self->{pid}{$name};
    my $exited;
    my $ok = eval {
        $self->wait_until(sub {
            # a daemon that died will not listen: no need to wait for it
            $exited = 'exited with status ' . ($? >> 8)
                . ($? & 127 ? ', signal ' . ($? & 127) : '')
                if waitpid($pid, POSIX::WNOHANG()) == $pid;
            die "$exited\n" if $exited;
            (!$banner || slurp($out) =~ $banner) && _accepts($port);
        }, scaled(20));
    };
    chomp(my $why = $@);
    die "the demo's $name did not start on 127.0.0.1:$port ($why):\n"
        . _tail($out, 30) unless $ok;
}

sub t              { $_[0]{t} }
sub auth           { $_[0]{auth} }
sub key            { $_[0]{key} }
sub idp            { $_[0]{idp} }
sub audience       { $_[0]{audience} }
sub hub            { $_[0]{hub} }
sub nginx_port     { $_[0]{nginx_port} }
sub service_port   { $_[0]{service_port} }
sub app_port       { $_[0]{app_port} }
sub nginx_origin   { $_[0]{nginx_origin} }
sub service_origin { $_[0]{service_origin} }
sub app_log_path   { $_[0]{app_log} }
sub service_log_path { $_[0]{service_log} }

# Polls $cond every 20 ms until it returns true (returned) or $secs pass
# (dies).
sub wait_until {
    my ($self, $cond, $secs) = @_;
    my $deadline = time() + $secs;
    while (1) {
        my $v = $cond->();
        return $v if $v;
        die "timed out after ${secs}s\n" if time() > $deadline;
        sleep(0.02);
    }
}

# Complete lines of a JSONL file, parsed; a line being written is left out.
sub _jsonl {
    my ($path) = @_;
    my $text = slurp($path);
    my $end = rindex($text, "\n");
    return () if $end < 0;
    return map { $JSON->decode($_) } grep { /\S/ }
        split /\n/, substr($text, 0, $end);
}

sub app_events  { _jsonl($_[0]{app_log}) }
sub service_log { _jsonl($_[0]{service_log}) }

sub logs_for_diag {
    my ($self) = @_;
    my $dir = $self->{t}->testdir;
    return join('', map { _tail("$dir/$_", 40) }
        qw(service.out app.out app.jsonl service.jsonl idp.out error.log));
}

# Runs t/oracle/$script with node, with the demo's addresses in the
# environment (plus %env); returns the JSON object it prints on stdout.
# Bounded to $secs (default 60, scaled).
sub oracle {
    my ($self, $script, %o) = @_;
    my $dir = $self->{t}->testdir;
    my $n = ++$self->{oracle_runs};
    my $err = "$dir/oracle-$n.err";
    my $secs = scaled($o{timeout} // 60);

    my %env = (
        E2E_NGINX   => $self->{nginx_origin},
        E2E_SERVICE => $self->{service_origin},
        E2E_KEY     => $self->{key} // '',
        E2E_HUB     => $self->{hub},
        E2E_AUTH    => $self->{auth},
        E2E_IDP     => $self->{idp} ? $self->{idp}->origin : '',
        E2E_SCALE   => scaled(1),
        %{ $o{env} // {} },
    );

    Test::More->builder->output->flush;
    STDOUT->flush();
    STDERR->flush();
    my $pid = open(my $out, '-|') // die "fork: $!\n";
    if ($pid == 0) {
        @ENV{keys %env} = values %env;
        open(STDIN, '<', '/dev/null');
        open(STDERR, '>>', $err);
        exec(node(), "$FindBin::Bin/oracle/$script") or POSIX::_exit(127);
    }

    my $text = '';
    my $ok = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm($secs);
        local $/;
        $text = <$out> // '';
        alarm(0);
        1;
    };
    alarm(0);
    kill 'KILL', $pid unless $ok;
    close $out;
    my $status = $?;

    my $result = $ok && eval { $JSON->decode($text) };
    die "t/oracle/$script failed (" . ($ok ? "status $status" : $@)
        . "):\n$text\n" . _tail($err, 40) . $self->logs_for_diag()
        unless ref $result eq 'HASH';
    $result->{_stderr} = slurp($err);
    return $result;
}

1;
