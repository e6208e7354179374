#!/usr/bin/env python3
"""Takes the idle samples of pushrelay-bench apart, from a capture of the loopback interface.

    tcpdump -i lo -s 300 -w /tmp/idle.pcap &
    swift run -c release pushrelay-bench --only engine --events 300
    kill %1; python3 bench/idle-gaps.py /tmp/idle.pcap

For each idle sample ("idle N ..." tweets) it finds, on the wire: the request's head and body, the batch
insert's CALL and its answer, the mark's CALL and its answer, the tweet's head and body at the sandbox; and
prints the median of each gap in milliseconds. The relay's own time is body->insert, insert->mark and
mark->tweet; PostgreSQL's (its commits included) is "insert PG" and "mark PG".
"""
import re
import statistics
import subprocess
import sys


def packets(path):
    out = subprocess.run(["tcpdump", "-r", path, "-nn", "-tt", "-A"], capture_output=True, text=True, errors="replace").stdout
    for block in re.split(r"\n(?=\d{10}\.\d{6} IP )", out):
        head = block.split("\n")[0]
        m = re.match(r"(\d+\.\d+) IP 127\.0\.0\.1\.(\d+) > 127\.0\.0\.1\.(\d+).*length (\d+)", head)
        if m:
            yield float(m.group(1)), m.group(2), int(m.group(4)), block


def main(path):
    pk = list(packets(path))
    names = ["clientsplit", "body->insert", "insert PG", "insert->mark", "mark PG", "mark->tweet", "tweetsplit", "total"]
    gaps = {name: [] for name in names}
    for i, (t_body, port, _, block) in enumerate(pk):
        if not re.search(r'"message":"idle \d+ ', block):
            continue
        j = i - 1
        while j > 0 and not (pk[j][1] == port and pk[j][2] > 0):
            j -= 1
        t_head = pk[j][0]
        following = pk[i + 1:i + 60]
        marks = ["CALL enqueue_publishes", "outcomes", "mark_publishing_batch", "marked", "/x/2/tweets", '"text":"idle']
        times, start = [], 0
        for text in marks:
            found = next((k for k in range(start, len(following)) if text in following[k][3]), None)
            if found is None:
                break
            times.append(following[found][0])
            start = found if text == "/x/2/tweets" else found + 1
        if len(times) < len(marks):
            continue
        ins, ins_ans, mark, mark_ans, tweet, tweet_body = times
        for name, value in zip(names, [t_body - t_head, ins - t_body, ins_ans - ins, mark - ins_ans, mark_ans - mark,
                                       tweet - mark_ans, tweet_body - tweet, tweet_body - t_head]):
            gaps[name].append(value)
    print(f"{len(gaps['total'])} idle samples; medians in ms:")
    print("  ".join(f"{name}={1000 * statistics.median(values):.3f}" for name, values in gaps.items() if values))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/idle.pcap")
