#!/usr/bin/perl

# The shared zone of the fetched Entra ID tokens and signing keys
# (webpubsub_credential, webpubsub_event_auth) against nginx's master
# process: when a worker exits (a reload, a crash) the master unlocks the
# mutex of every shared zone for it, as a slab pool's, so the zone must be
# one.  The master lives on after a reload (alive and not a zombie: the
# harness reaps its pid), and the new worker serves.  A worker killed
# would do as well, but nginx logs that as an alert.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use POSIX ();
use Time::HiRes qw(sleep time);
use WebPubSub::Nginx;

my $t = WebPubSub::Nginx->new();

$t->write_conf(<<'EOF');
%%GLOBALS%%

events {
}

http {
    %%GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_0%%;

        webpubsub_endpoint        http://127.0.0.1:%%PORT_1%%;
        webpubsub_credential      managed_identity;
        webpubsub_credential_pass /_identity;
        webpubsub_hub             chat;

        location /eh/ {
            webpubsub_event_handler   on;
            webpubsub_event_auth      entra tenant_id=t audience=api://a;
            webpubsub_event_auth_pass /_keys;
            proxy_pass http://127.0.0.1:%%PORT_0%%/alive;
        }

        location = /_keys {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location = /_identity {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location = /alive {
            return 200 "alive";
        }
    }
}
EOF

$t->run();
$t->plan(3);

my $master = $t->{nginx_pid};

# R, S, D...: alive; Z: dead, not reaped; gone: reaped by someone
sub master_state {
    open my $fh, '<', "/proc/$master/stat" or return 'gone';
    my $stat = <$fh> // '';
    return $stat =~ /^\d+ \(.*\) (\S)/ ? $1 : 'unknown';
}

# polls until the master is dead or 2 s pass: its own unlocking of the
# zones is done within a signal handler, at once
sub master_lives {
    my $deadline = time() + 2;
    while (time() < $deadline) {
        return 0 if master_state() =~ /^[ZX]|gone/;
        sleep(0.05);
    }
    return 1;
}

is($t->get('/alive')->{content}, 'alive', 'nginx serves');

$t->reload();
ok(master_lives(), 'the master lives on after a reload (the old worker '
    . 'exited)') or diag('master state ' . master_state() . "\n"
    . join("\n", grep { /signal|exited|SIG/ } split /\n/, $t->error_log()));
is($t->get('/alive')->{content}, 'alive', 'and the new worker serves');

$t->done();
