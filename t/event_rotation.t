#!/usr/bin/perl

# Key rotation with "nginx -s reload": the old key, then old and new, then
# the new one alone.  Events the service signs with every key it has at
# each step keep flowing through both reloads without a single refusal.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(time);
use WebPubSub::Nginx;

my $t = WebPubSub::Nginx->new();

sub conf {
    my (@keys) = @_;
    my $keys = join("\n", map { "    webpubsub_access_key $_;" } @keys);
    return <<"EOF";
%%GLOBALS%%

events {
}

http {
    %%GLOBALS_HTTP%%

    webpubsub_endpoint https://contoso.webpubsub.azure.com;
$keys
    webpubsub_hub chat;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location /eventhandler/ {
            webpubsub_event_handler on;
            proxy_pass http://127.0.0.1:%%PORT_1%%/app/;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;

        location /app/ {
            return 200 "app\n";
        }
    }
}
EOF
}

sub sig {
    my ($conn, @keys) = @_;
    return join(',', map { 'sha256=' . hmac_sha256_hex($_, $conn) } @keys);
}

sub event {
    my ($conn, @keys) = @_;
    return $t->request('POST', '/eventhandler/', body => '{}', headers => {
        'Content-Type' => 'application/json',
        'WebHook-Request-Origin' => 'contoso.webpubsub.azure.com',
        'ce-specversion' => '1.0',
        'ce-awpsversion' => '1.0',
        'ce-type' => 'azure.webpubsub.sys.connected',
        'ce-connectionId' => $conn,
        'ce-hub' => 'chat',
        'ce-signature' => sig($conn, @keys),
    })->{status};
}

$t->write_conf(conf('old-key'));
$t->run();
$t->plan(8);

is(event('c1', 'old-key'), 200, 'step 1: the old key');
is(event('c1', 'new-key'), 401, 'step 1: the new key is not known yet');

# The service, meanwhile, signs with both keys (its primary and secondary).
# A child sends such events without pause through both reloads.
pipe(my $rd, my $wr) or die "pipe: $!";
my $pid = fork() // die "fork: $!";

if ($pid == 0) {
    close $rd;
    my ($sent, $refused) = (0, 0);
    my $deadline = time() + 60;
    while (time() < $deadline && $sent < 5000) {
        my $status = event("c$sent", 'old-key', 'new-key');
        $sent++;
        $refused++ if $status != 200;
        # the parent leaves a file to say "enough"
        last if -e $t->testdir . '/stop-sending';
    }
    print $wr "$sent $refused\n";
    close $wr;
    exit 0;
}

close $wr;

$t->write_conf(conf('old-key', 'new-key'));
$t->reload();

is(event('c2', 'old-key'), 200, 'step 2: the old key still works');
is(event('c2', 'new-key'), 200, 'step 2: the new key works');

$t->write_conf(conf('new-key'));
$t->reload();

is(event('c3', 'new-key'), 200, 'step 3: the new key');
is(event('c3', 'old-key'), 401, 'step 3: the old key is refused');

$t->write_file('stop-sending', '');
my $line = <$rd> // '';
waitpid($pid, 0);
my ($sent, $refused) = split ' ', $line;

ok(($sent // 0) > 0, "events sent during the reloads: " . ($sent // 0));
is($refused, 0, 'not one event signed by the service was refused');

$t->done();
