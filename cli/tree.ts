/** A labelled tree printed with box-drawing branches, as `notation inspect` prints signatures. */
export interface TreeNode {
  label: string;
  children?: TreeNode[];
}

/** Renders `root` (its label on the first line, children below with `├──`, `│`, `└──`). */
export function renderTree(root: TreeNode): string[] {
  const lines = [root.label];
  const walk = (children: TreeNode[], prefix: string): void => {
    children.forEach((child, i) => {
      const last = i === children.length - 1;
      lines.push(`${prefix}${last ? '└── ' : '├── '}${child.label}`);
      if (child.children && child.children.length > 0)
        walk(child.children, `${prefix}${last ? '    ' : '│   '}`);
    });
  };
  walk(root.children ?? [], '');
  return lines;
}
