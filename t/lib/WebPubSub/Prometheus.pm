package WebPubSub::Prometheus;

# A strict reading of the Prometheus text exposition format (version
# 0.0.4), for the tests of webpubsub_status: the rules the format's
# documentation states, checked one by one, so that a mistake in the
# module's output is named rather than silently accepted.
#
#   my ($families, @errors) = WebPubSub::Prometheus::check($text);
#   # $families: { name => { help, type, samples => [ { name, labels
#   #              => { k => v }, value } ] } }, in order of appearance
#   # @errors: one sentence per broken rule; none for valid text
#   my $v = WebPubSub::Prometheus::value($families, $sample, %labels);
#   # the value of one series, undef if absent
#
# Rules checked: metric and label names (regexes of the format), label
# values (only \\, \" and \n escapes), values (Go float syntax, +Inf,
# -Inf, NaN), one HELP and one TYPE per family, both before its samples,
# a family's samples together, sample names of the family's type
# (histogram: _bucket with le, _sum, _count), no series twice, counters
# not negative, histogram buckets in increasing le with cumulative
# counts, the last le="+Inf" and equal to _count, and a final newline.

use strict;
use warnings;

my $NAME = qr/[a-zA-Z_:][a-zA-Z0-9_:]*/;
my $LABEL = qr/[a-zA-Z_][a-zA-Z0-9_]*/;
my $FLOAT = qr/[+-]?(?:Inf|NaN|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/;
my %TYPES = map { $_ => 1 } qw(counter gauge histogram summary untyped);

sub _num {
    my ($v) = @_;
    return 9**9**9 if $v eq '+Inf' || $v eq 'Inf';
    return -9**9**9 if $v eq '-Inf';
    return $v + 0;
}

# the family a sample name belongs to, given the families declared
sub _family_of {
    my ($fams, $name) = @_;
    return $name if $fams->{$name};
    for my $suffix (qw(_bucket _sum _count)) {
        (my $base = $name) =~ s/\Q$suffix\E$// or next;
        return $base if $fams->{$base}
            && ($fams->{$base}{type} // '') =~ /^(?:histogram|summary)$/;
    }
    return $name;
}

sub _labels {
    my ($text, $errors, $line) = @_;
    my %l;
    my $rest = $text;
    while (length $rest) {
        unless ($rest =~ s/^($LABEL)="((?:[^"\\\n]|\\[\\"n])*)"//) {
            push @$errors, "line $line: malformed labels {$text}";
            return undef;
        }
        my ($k, $v) = ($1, $2);
        push @$errors, "line $line: reserved label name $k" if $k =~ /^__/;
        push @$errors, "line $line: label $k twice" if exists $l{$k};
        $v =~ s/\\(.)/$1 eq 'n' ? "\n" : $1/ge;
        $l{$k} = $v;
        last if $rest eq '';
        unless ($rest =~ s/^,//) {
            push @$errors, "line $line: malformed labels {$text}";
            return undef;
        }
    }
    return \%l;
}

sub check {
    my ($text) = @_;
    my (@errors, %fams, @order, %seen_series, %closed);
    my $current;

    push @errors, 'does not end with a newline'
        unless length $text && substr($text, -1) eq "\n";

    my $n = 0;
    for my $line (split /\n/, $text) {
        $n++;

        if ($line =~ /^#\s*(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/) {
            my ($kw, $name, $rest) = ($1, $2, $3 // '');
            push @errors, "line $n: bad metric name $name"
                unless $name =~ /^$NAME$/;
            my $f = $fams{$name} //= do {
                push @order, $name;
                { samples => [] };
            };
            push @errors, "line $n: $kw of $name after its samples"
                if @{ $f->{samples} };
            push @errors, "line $n: family $name appears again"
                if $closed{$name};
            if ($kw eq 'HELP') {
                push @errors, "line $n: second HELP for $name"
                    if defined $f->{help};
                push @errors, "line $n: bad escape in HELP of $name"
                    if $rest =~ /\\(?![\\n])/;
                $f->{help} = $rest;
            } else {
                push @errors, "line $n: second TYPE for $name"
                    if defined $f->{type};
                push @errors, "line $n: unknown type $rest"
                    unless $TYPES{$rest};
                $f->{type} = $rest;
            }
            if (defined $current && $current ne $name) {
                $closed{$current} = 1;
            }
            $current = $name;
            next;
        }

        next if $line =~ /^#/;

        if ($line eq '') {
            push @errors, "line $n: empty line";
            next;
        }

        unless ($line =~ /^($NAME)(?:\{([^}]*)\})?[ \t]+(\S+)(?:[ \t]+(-?\d+))?$/) {
            push @errors, "line $n: not a sample: $line";
            next;
        }
        my ($name, $ltext, $value) = ($1, $2 // '', $3);
        push @errors, "line $n: bad value $value" unless $value =~ /^$FLOAT$/;
        my $labels = _labels($ltext, \@errors, $n) or next;

        my $fam = _family_of(\%fams, $name);
        my $f = $fams{$fam};
        if (!$f || !defined $f->{type}) {
            push @errors, "line $n: sample $name without a TYPE before it";
            $f = $fams{$fam} //= do { push @order, $fam; { samples => [] } };
        }
        if (defined $current && $current ne $fam) {
            $closed{$current} = 1;
        }
        push @errors, "line $n: samples of $fam are not together"
            if $closed{$fam};
        $current = $fam;

        my $type = $f->{type} // 'untyped';
        if ($type eq 'histogram') {
            push @errors, "line $n: $name is no sample of histogram $fam"
                unless $name =~ /^\Q$fam\E_(?:bucket|sum|count)$/;
            push @errors, "line $n: bucket without le"
                if $name =~ /_bucket$/ && !exists $labels->{le};
            push @errors, "line $n: le outside a bucket"
                if $name !~ /_bucket$/ && exists $labels->{le};
        } elsif ($name ne $fam) {
            push @errors, "line $n: $name is no sample of $type $fam";
        }
        push @errors, "line $n: negative counter $name"
            if $type eq 'counter' && $value =~ /^$FLOAT$/ && _num($value) < 0;

        my $key = join "\0", $name,
            map { "$_=$labels->{$_}" } sort keys %$labels;
        push @errors, "line $n: series twice: $line" if $seen_series{$key}++;

        push @{ $f->{samples} },
            { name => $name, labels => $labels, value => $value };
    }

    for my $fam (grep { ($fams{$_}{type} // '') eq 'histogram' } @order) {
        my (%buckets, %sum, %count);
        for my $s (@{ $fams{$fam}{samples} }) {
            my %l = %{ $s->{labels} };
            my $le = delete $l{le};
            my $id = join ',', map { "$_=$l{$_}" } sort keys %l;
            if ($s->{name} =~ /_bucket$/) {
                push @{ $buckets{$id} }, [ $le, _num($s->{value}) ];
            } elsif ($s->{name} =~ /_sum$/) {
                $sum{$id} = $s->{value};
            } else {
                $count{$id} = _num($s->{value});
            }
        }
        for my $id (sort keys %buckets) {
            my @b = @{ $buckets{$id} };
            for my $i (1 .. $#b) {
                push @errors, "$fam {$id}: le $b[$i][0] after $b[$i-1][0]"
                    unless _num($b[$i][0]) > _num($b[$i-1][0]);
                push @errors, "$fam {$id}: bucket counts decrease at "
                    . "le=$b[$i][0]" if $b[$i][1] < $b[$i-1][1];
            }
            push @errors, "$fam {$id}: the last bucket is not le=\"+Inf\""
                unless $b[-1][0] eq '+Inf';
            push @errors, "$fam {$id}: no _count"
                unless defined $count{$id};
            push @errors, "$fam {$id}: no _sum" unless defined $sum{$id};
            push @errors, "$fam {$id}: +Inf bucket $b[-1][1] is not "
                . "_count " . ($count{$id} // 'none')
                if defined $count{$id} && $b[-1][1] != $count{$id};
        }
        for my $id (sort keys %count) {
            push @errors, "$fam {$id}: _count without buckets"
                unless $buckets{$id};
        }
    }

    my %out = map { $_ => $fams{$_} } @order;
    return (\%out, @errors);
}

sub value {
    my ($fams, $sample, %labels) = @_;
    my $fam = _family_of($fams, $sample);
    my $f = $fams->{$fam} or return undef;
    SAMPLE: for my $s (@{ $f->{samples} }) {
        next unless $s->{name} eq $sample;
        next unless keys %{ $s->{labels} } == keys %labels;
        for my $k (keys %labels) {
            next SAMPLE unless defined $s->{labels}{$k}
                && $s->{labels}{$k} eq $labels{$k};
        }
        return $s->{value};
    }
    return undef;
}

1;
