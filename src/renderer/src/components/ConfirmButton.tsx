// A button whose action needs a yes: it opens a small dialog that says what will happen.
// data-testid: the button `testId`, the dialog `${testId}-dialog`, its buttons `${testId}-confirm`
// and `${testId}-dismiss`.
import { Button, Modal } from 'antd'
import { useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'

export interface ConfirmButtonProps {
  testId: string
  /** The button's text. */
  children: ReactNode
  title: string
  /** What will happen, in a sentence or two. */
  text: ReactNode
  confirmText: string
  onConfirm: () => Promise<void> | void
  danger?: boolean
  disabled?: boolean
  size?: 'small' | 'middle' | 'large'
  type?: 'default' | 'primary' | 'link' | 'text'
}

export function ConfirmButton(p: ConfirmButtonProps): ReactNode {
  const { t } = useTranslation()
  const [open, setOpen] = useState(false)
  const [busy, setBusy] = useState(false)
  const confirm = async (): Promise<void> => {
    setBusy(true)
    try {
      await p.onConfirm()
    } finally {
      setBusy(false)
      setOpen(false)
    }
  }
  return (
    <>
      <Button data-testid={p.testId} danger={p.danger} disabled={p.disabled} size={p.size} type={p.type} loading={busy} onClick={() => setOpen(true)}>
        {p.children}
      </Button>
      <Modal
        open={open}
        title={p.title}
        onCancel={() => setOpen(false)}
        destroyOnHidden
        footer={[
          <Button key="dismiss" data-testid={`${p.testId}-dismiss`} disabled={busy} onClick={() => setOpen(false)}>
            {t('common.back')}
          </Button>,
          <Button key="confirm" type="primary" danger={p.danger} loading={busy} data-testid={`${p.testId}-confirm`} onClick={() => void confirm()}>
            {p.confirmText}
          </Button>,
        ]}
      >
        <div data-testid={`${p.testId}-dialog`}>{p.text}</div>
      </Modal>
    </>
  )
}
