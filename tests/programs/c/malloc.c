// malloc-heavy code: a churn of small and large blocks (brk and mmap both), realloc that grows
// and shrinks (mremap for large blocks), calloc, and linked structures built and torn down.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 88172645463325252ULL;
static uint64_t next(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

struct Node {
  struct Node* left;
  struct Node* right;
  uint64_t key;
  char payload[24];
};

static struct Node* insert(struct Node* root, uint64_t key) {
  if (root == NULL) {
    struct Node* node = calloc(1, sizeof *node);
    node->key = key;
    snprintf(node->payload, sizeof node->payload, "k%llu", (unsigned long long)(key % 100000));
    return node;
  }
  if (key < root->key)
    root->left = insert(root->left, key);
  else
    root->right = insert(root->right, key);
  return root;
}
static void walk(const struct Node* n, uint64_t* hash, int* count) {
  if (n == NULL) return;
  walk(n->left, hash, count);
  *hash = (*hash ^ n->key ^ (uint64_t)strlen(n->payload)) * 0x100000001b3ULL;
  ++*count;
  walk(n->right, hash, count);
}
static void release(struct Node* n) {
  if (n == NULL) return;
  release(n->left);
  release(n->right);
  free(n);
}

int main(void) {
  enum { kSlots = 4096 };
  static unsigned char* slots[kSlots];
  static size_t sizes[kSlots];
  uint64_t hash = 0;
  for (int round = 0; round < 8000; ++round) {
    int i = (int)(next() % kSlots);
    if (slots[i] != NULL && (next() & 1)) {
      for (size_t j = 0; j < sizes[i]; j += 61) hash += slots[i][j];
      free(slots[i]);
      slots[i] = NULL;
      continue;
    }
    // Mostly small blocks, sometimes large ones above the mmap threshold.
    size_t size = (next() % 64 == 0) ? 100000 + next() % 400000 : 1 + next() % 512;
    unsigned char* p = realloc(slots[i], size);
    if (p == NULL) return 1;
    size_t old = slots[i] != NULL ? sizes[i] : 0;
    if (size > old) {
      memset(p + old, i & 0xff, size - old);
      for (size_t j = old; j < size; j += 61) p[j] = (unsigned char)(j * 7 + i);
    }
    slots[i] = p;
    sizes[i] = size;
  }
  size_t live = 0;
  for (int i = 0; i < kSlots; ++i) {
    if (slots[i] == NULL) continue;
    for (size_t j = 0; j < sizes[i]; j += 97) hash = hash * 31 + slots[i][j];
    live += sizes[i];
    free(slots[i]);
  }
  printf("churn hash %016llx, %zu bytes live at the end\n", (unsigned long long)hash, live);

  struct Node* root = NULL;
  for (int i = 0; i < 6000; ++i) root = insert(root, next() % 1000000007);
  uint64_t tree_hash = 14695981039346656037ULL;
  int count = 0;
  walk(root, &tree_hash, &count);
  printf("tree of %d nodes, in-order hash %016llx\n", count, (unsigned long long)tree_hash);
  release(root);

  char* text = NULL;
  size_t length = 0;
  for (int i = 0; i < 1500; ++i) {
    char piece[32];
    int n = snprintf(piece, sizeof piece, "%d,", i * i);
    text = realloc(text, length + (size_t)n + 1);
    memcpy(text + length, piece, (size_t)n + 1);
    length += (size_t)n;
  }
  printf("grown string of %zu bytes ends with %s\n", length, text + length - 12);
  free(text);
  int* zeros = calloc(1 << 18, sizeof(int));
  long sum = 0;
  for (int i = 0; i < (1 << 18); i += 1024) sum += zeros[i];
  printf("calloc'd megabytes sum to %ld\n", sum);
  free(zeros);
  return 0;
}
