#!/usr/bin/perl

# webpubsub_status with "master_process off": nginx reloads in its one
# process, where no init_process runs again, and the counters must follow
# the configuration all the same.  Such a reload gives the new
# configuration no connections to accept with (nginx's own limit), but a
# keep-alive connection opened before it goes on with the configuration
# it began with: on it, a count after a reload that removed the status
# location (and freed the zone) must not touch the freed zone (it did:
# SIGSEGV), and after a reload that adds the location again, the status
# location answers the new zone, from zero.
#
# The harness's reload() probes the listening port, which nginx cannot
# accept after such a reload: here SIGHUP, then the log line of the new
# configuration's load.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use WebPubSub::Nginx;

my $JSON = JSON::PP->new->utf8->canonical;
$SIG{PIPE} = "IGNORE";    # a crashed nginx fails the tests, not perl

my $t = WebPubSub::Nginx->new();

sub conf {
    my ($status) = @_;
    my $loc = $status ? 'location = /status { webpubsub_status; }' : '';
    return <<"EOF";
%%GLOBALS%%
master_process off;
events { }
http {
    %%GLOBALS_HTTP%%
    server {
        listen 127.0.0.1:%%PORT_0%%;
        webpubsub_endpoint   http://127.0.0.1:1;
        webpubsub_access_key single-process-key;
        webpubsub_hub        chat;
        location = /negotiate { webpubsub_token; }
        $loc
    }
}
EOF
}

my $conn;

# a request on the one keep-alive connection: (status, body)
sub ka {
    my ($path) = @_;
    print $conn "GET $path HTTP/1.1\r\nHost: localhost\r\n\r\n" or return;
    my ($head, $body) = ('', '');
    my $deadline = time() + 10;
    while ($head !~ /\r\n\r\n/ && time() < $deadline) {
        my $n = sysread($conn, my $buf, 4096) or return;
        $head .= $buf;
    }
    ($head, $body) = split /\r\n\r\n/, $head, 2;
    my ($len) = $head =~ /^Content-Length: (\d+)/mi or return;
    while (length $body < $len && time() < $deadline) {
        my $n = sysread($conn, my $buf, 4096) or return;
        $body .= $buf;
    }
    my ($status) = $head =~ m{^HTTP/1\.1 (\d+)} or return;
    return ($status, $body);
}

sub tokens {
    my ($status, $body) = ka('/status?format=json');
    return 'no answer' unless defined $status;
    return "status $status" unless $status == 200;
    return $JSON->decode($body)->{tokens_issued}{key}{default};
}

sub reload_single {
    my ($status) = @_;
    my $loads = () = $t->error_log() =~ /ngx_http_webpubsub_module\//g;
    $t->write_conf(conf($status));
    kill 'HUP', $t->{nginx_pid} or die "kill HUP: $!\n";
    my $deadline = time() + 10;
    while (time() < $deadline) {
        my $n = () = $t->error_log() =~ /ngx_http_webpubsub_module\//g;
        return 1 if $n > $loads;
        select(undef, undef, undef, 0.02);
    }
    return 0;
}

$t->write_conf(conf(1));
$t->run();

# OpenResty's core patches make SIGHUP end a single process instead of
# reloading it: there, no reload can leave a count behind its zone, and
# the test checks that nginx does end
my $openresty = $t->error_log() =~ m{\bopenresty/\d};
$t->plan($openresty ? 3 : 8);

$conn = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $t->port(0),
    Timeout => 5) or die "connect: $!\n";

is((ka('/negotiate'))[0], 200, 'a token');
is(tokens(), 1, 'counted');

if ($openresty) {
    my $pid = $t->{nginx_pid};
    kill 'HUP', $pid or die "kill HUP: $!\n";
    my $deadline = time() + 10;
    my $gone = 0;
    while (!$gone && time() < $deadline) {
        $gone = waitpid($pid, WNOHANG) == $pid;
        select(undef, undef, undef, 0.02) unless $gone;
    }
    $t->{nginx_pid} = undef if $gone;
    ok($gone && $t->error_log() =~ /\(SIGHUP\) received from \d+, exiting/,
        'OpenResty: SIGHUP ends the single process, no reload follows');
    close $conn;
    $t->done();
    exit 0;
}

# the zone goes with the location
ok(reload_single(0), 'reloaded without the status location');
is((ka('/negotiate'))[0], 200,
    'a token after it, on the connection of before: nginx is alive');
is((ka('/negotiate'))[0], 200, 'and another');

# and comes back, new
ok(reload_single(1), 'reloaded with it again');
is(tokens(), 0, 'the status location answers the new zone, from zero');
is((ka('/negotiate'))[0], 200, 'a token, counted nowhere else');

close $conn;
$t->done();
